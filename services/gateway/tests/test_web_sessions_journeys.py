"""Sessions' journeys in Debian's Chromium against the whole platform (five services on PostgreSQL, events over
RabbitMQ): the centre withdraws a candidate or marks one absent after a confirmation, changes the dates while the
session is « en préparation » (S5); the UD's postponement and its refusal (S5); the dashboard's sessions figures
and deadline warnings (S10, B2), each count opening its list; the lists sorted by a column header and by pages.
Each page: no console error, no axe-core violation, a screenshot."""
from __future__ import annotations

import re
import sys
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_web_agent import CHEVALIER, MARTIN, ROUSSEAU, Seeder, flash, fr  # noqa: E402  (the API seeder of the agents' tests)
from webplatform import Checker, browser, demo_login, start_full_platform  # noqa: E402,F401

PARIS = ZoneInfo("Europe/Paris")
UD01 = "Agent UD de l'Ain (01)"
GRETA = "Centre de formation (GRETA de l'Ain)"
LIST_SIZE = 24  # sessions seeded in the Ain: more than a page of 20


def convoked(seeder, candidates: list[int], days_ahead: int = 40) -> dict:
    """A session « convocations envoyées » starting in `days_ahead` days, its DTE and convocations sent in time
    (the service clock set back, as in the agents' tests)."""
    from ceres_sessions import clock

    start = date.today() + timedelta(days=days_ahead)
    clock.fix(datetime.combine(start - timedelta(days=110), time(10), tzinfo=timezone.utc))
    try:
        s = seeder.call("POST", "/sessions", seeder.centre, {"site_id": seeder.site_id, "titre_code": "TP-00463",
                                                             "starts_on": start.isoformat()}, 201)
        for cid in candidates:
            seeder.call("POST", f"/sessions/{s['id']}/candidats", seeder.centre, {"candidate_id": cid}, 201)
        seeder.call("POST", f"/sessions/{s['id']}/demande-dte", seeder.centre, {"candidate_count": len(candidates)})
        return seeder.call("POST", f"/sessions/{s['id']}/convocations", seeder.centre)
    finally:
        clock.fix(None)


def add_months(day: date, months: int) -> date:
    from ceres_sessions.domain.rules import add_months as rule

    return rule(day, months)


@pytest.fixture(scope="module")
def platform(infra, amqp_url, issuer):
    started, close = start_full_platform(infra, amqp_url, issuer)
    seeder = Seeder(started, issuer)
    started.seeder = seeder
    started.sessions = {
        "absences": convoked(seeder, [CHEVALIER, MARTIN, ROUSSEAU]),
        "a_deplacer": seeder.future(130),
        "a_reporter": seeder.call("POST", "/sessions", seeder.centre, {  # a start at 09:30, kept by the report
            "site_id": seeder.site_id, "titre_code": "TP-00463",
            "starts_at": datetime.combine(date.today() + timedelta(days=150), time(9, 30),
                                          tzinfo=PARIS).isoformat()}, 201),
        "annulee": seeder.future(140),
        # B2: its DTE is due within the scanner's 15 days.
        "dte_proche": seeder.call("POST", "/sessions", seeder.centre, {
            "site_id": seeder.site_id, "titre_code": "TP-00463",
            "starts_on": (add_months(date.today(), 3) + timedelta(days=5)).isoformat()}, 201),
    }
    seeder.call("POST", f"/sessions/{started.sessions['annulee']['id']}/annulation", seeder.ud,
                {"reason": "Salle fermée"})
    for days in range(LIST_SIZE - len(started.sessions)):
        seeder.future(160 + days)
    yield started
    close()



@pytest.fixture
def web(browser, platform, request):
    context = browser.new_context(base_url=platform.url, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    checker = Checker(page, "sessions-" + request.node.name.removeprefix("test_"))
    yield page, checker
    context.close()


def summary(page) -> str:
    return page.locator("#erreur-formulaire").inner_text()


def state_of(page, candidate_id: int) -> str:
    return page.locator(f"#candidat-{candidate_id} .ceres-etat").inner_text()


# --- the centre: a candidate withdrawn, one marked absent -----------------------------------------------------
def test_centre_marks_a_candidate_absent_and_withdraws_another_after_confirming(web, platform):
    page, checker = web
    seeder, target = platform.seeder, platform.sessions["absences"]
    demo_login(page, checker, GRETA)
    page.goto(f"/centre/sessions/{target['id']}")
    assert page.locator("#statut").inner_text() == "convocations envoyées"
    assert [state_of(page, c) for c in (CHEVALIER, MARTIN, ROUSSEAU)] == ["inscrit"] * 3
    assert page.locator(f"#candidat-{CHEVALIER} td").nth(2).inner_text() == "Henri"
    checker.check("session")

    # Absent: a page says it is final; nothing changes before the confirmation.
    page.get_by_role("link", name="Marquer absent : ROUSSEAU Élodie").click()
    assert page.locator("h1").inner_text() == "Marquer un candidat absent"
    assert "L'absence est définitive" in page.locator("#confirmation").inner_text()
    assert "ROUSSEAU" in page.locator("#confirmation").inner_text()
    checker.check("absence-confirmation")
    page.get_by_role("link", name="Revenir à la session").click()
    assert state_of(page, ROUSSEAU) == "inscrit"
    page.get_by_role("link", name="Marquer absent : ROUSSEAU Élodie").click()
    page.get_by_role("button", name="Confirmer l'absence").click()
    assert "est marqué(e) absent(e)" in flash(page) and "ROUSSEAU" in flash(page)
    assert state_of(page, ROUSSEAU) == "absent"
    assert page.locator(f"#candidat-{ROUSSEAU}").get_by_role("link", name=re.compile("Marquer absent")).count() == 0
    checker.check("absent")

    # Withdrawal, confirmed.
    page.get_by_role("link", name="Retirer : MARTIN").click()
    assert "Confirmez le retrait de MARTIN" in page.locator("#confirmation").inner_text()
    checker.check("retrait-confirmation")
    page.get_by_role("button", name="Confirmer le retrait").click()
    assert "est retiré(e) de la session" in flash(page)
    assert state_of(page, MARTIN) == "retiré"
    assert page.locator(f"#candidat-{MARTIN}").get_by_role("link").count() == 0
    checker.check("retire")
    assert {c["candidate_id"]: c["state"] for c in seeder.call("GET", f"/sessions/{target['id']}", seeder.ud)[
        "candidats"]} == {CHEVALIER: "inscrit", MARTIN: "retire", ROUSSEAU: "absent"}

    # Meanwhile (another tab, another person) CHEVALIER is withdrawn: the service's refusal, in French, on the page.
    page.get_by_role("link", name="Marquer absent : CHEVALIER").click()
    seeder.call("DELETE", f"/sessions/{target['id']}/candidats/{CHEVALIER}", seeder.centre)
    page.get_by_role("button", name="Confirmer l'absence").click()
    assert summary(page).strip() == "Ce candidat n'est pas inscrit à la session."
    checker.check("deja-retire")

    # A session still « en préparation »: no one is absent yet; asked anyway (an old link), the table's reason.
    early = platform.sessions["a_deplacer"]
    seeder.call("POST", f"/sessions/{early['id']}/candidats", seeder.centre, {"candidate_id": MARTIN}, 201)
    page.goto(f"/centre/sessions/{early['id']}")
    assert page.get_by_role("link", name=re.compile("Marquer absent")).count() == 0
    assert page.get_by_role("link", name="Retirer : MARTIN").count() == 1  # withdrawal is open while preparing
    page.goto(f"/centre/sessions/{early['id']}/candidats/{MARTIN}/absence")
    page.get_by_role("button", name="Confirmer l'absence").click()
    assert summary(page).strip() == ("Impossible de marquer un candidat absent : la session est « en préparation ».")
    checker.check("absence-refusee")


# --- the centre: S5, the dates while « en préparation » ------------------------------------------------------
def test_centre_changes_the_dates_while_preparing_then_no_longer_s5(web, platform):
    page, checker = web
    seeder, target = platform.seeder, platform.sessions["a_deplacer"]
    demo_login(page, checker, GRETA)
    page.goto(f"/centre/sessions/{target['id']}")
    page.get_by_role("link", name="Modifier les dates").click()
    start = date.fromisoformat(target["starts_at"][:10])
    assert page.get_by_label("Nouvelle date de début").input_value() == start.isoformat()
    assert page.get_by_label("Heure de début").input_value() == "08:00"
    checker.check("formulaire")

    # Checked on the page, field by field: the end before the start.
    page.get_by_label("Nouvelle date de fin").fill((start - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Enregistrer les nouvelles dates").click()
    assert page.locator("#ends_on-erreur").inner_text() == "La date de fin ne peut pas précéder la date de début."
    checker.check("fin-avant-debut")
    # The service's rule: not into the past (S5), its reason next to the start date.
    yesterday = date.today() - timedelta(days=1)
    page.get_by_label("Nouvelle date de début").fill(yesterday.isoformat())
    page.get_by_label("Nouvelle date de fin").fill(yesterday.isoformat())
    page.get_by_role("button", name="Enregistrer les nouvelles dates").click()
    refusal = "Impossible de modifier les dates de la session : La nouvelle date de début ne peut pas être passée."
    assert summary(page).startswith(refusal)
    assert page.locator("#starts_on-erreur").inner_text() == refusal
    checker.check("date-passee")

    new_start = start + timedelta(days=21)
    page.get_by_label("Nouvelle date de début").fill(new_start.isoformat())
    page.get_by_label("Heure de début").fill("09:00")
    page.get_by_label("Nouvelle date de fin").fill((new_start + timedelta(days=1)).isoformat())
    page.get_by_label("Motif (facultatif, conservé dans l'historique)").fill("Plateau technique indisponible")
    page.get_by_role("button", name="Enregistrer les nouvelles dates").click()
    assert f"la session commence le {fr(new_start)} à 09:00" in flash(page)
    assert page.locator("#debut").inner_text() == f"{fr(new_start)} à 09:00"
    assert page.locator("#statut").inner_text() == "en préparation"
    history = page.locator("#historique").inner_text()
    assert "modification des dates" in history and "Plateau technique indisponible" in history
    checker.check("dates-modifiees")
    moved = seeder.call("GET", f"/sessions/{target['id']}", seeder.ud)
    assert moved["convocation_at"].startswith(new_start.isoformat())  # the convocation follows the start

    # The form is open, and meanwhile the DTE is requested: the service refuses for the status (S5), the page says
    # why and no longer offers the form.
    page.get_by_role("link", name="Modifier les dates").click()
    seeder.call("POST", f"/sessions/{target['id']}/demande-dte", seeder.centre, {"candidate_count": 1})
    page.get_by_label("Nouvelle date de début").fill((new_start + timedelta(days=7)).isoformat())
    page.get_by_label("Nouvelle date de fin").fill((new_start + timedelta(days=8)).isoformat())
    page.get_by_role("button", name="Enregistrer les nouvelles dates").click()
    assert summary(page).strip() == ("Impossible de modifier les dates de la session : la session est « demande de "
                                     "DTE envoyée ».")
    assert page.locator("#form-dates").count() == 0
    assert "demandez à votre unité départementale de reporter la session" in page.locator("#dates-figees").inner_text()
    checker.check("refus-statut")
    assert seeder.call("GET", f"/sessions/{target['id']}", seeder.ud)["starts_at"].startswith(new_start.isoformat())
    page.goto(f"/centre/sessions/{target['id']}")
    assert page.get_by_role("link", name="Modifier les dates").count() == 0
    assert "seule l'unité départementale peut reporter la session" in page.locator("#dates-figees").inner_text()
    checker.check("session-dates-figees")


# --- the UD: S5, the postponement -----------------------------------------------------------------------------
def test_ud_postpones_keeping_the_hours_and_is_told_why_not_s5(web, platform):
    page, checker = web
    target, cancelled = platform.sessions["a_reporter"], platform.sessions["annulee"]
    demo_login(page, checker, UD01)
    page.goto(f"/agent/sessions/{target['id']}")
    page.get_by_role("link", name="Reporter la session").click()
    assert "La session garde son heure de début (09:30)" in page.locator("main").inner_text()
    checker.check("formulaire")
    new_start = date.fromisoformat(target["starts_at"][:10]) + timedelta(days=30)
    page.get_by_label("Nouvelle date de début").fill(new_start.isoformat())
    page.get_by_label("Nouvelle date de fin").fill(new_start.isoformat())
    page.get_by_label("Motif du report (obligatoire)").fill("Jury indisponible")
    page.get_by_role("button", name="Reporter la session").click()
    assert f"est reportée du {fr(new_start)} au {fr(new_start)}" in flash(page)
    assert f"{fr(new_start)} à 09:30" in page.locator("#session").inner_text()  # the centre's hour kept
    assert "Jury indisponible" in page.locator("#historique tbody").inner_text()
    checker.check("reportee")

    # An annulled session: no postponement offered; its address says why.
    page.goto(f"/agent/sessions/{cancelled['id']}")
    assert page.get_by_role("link", name="Reporter la session").count() == 0
    page.goto(f"/agent/sessions/{cancelled['id']}/report")
    assert "celle-ci est « annulée »" in page.locator("#report-impossible").inner_text()
    assert page.get_by_role("button", name="Reporter la session").count() == 0
    checker.check("report-impossible")


# --- the lists: sorted by a column header, by pages -------------------------------------------------------------
def _column(page, table: str, index: int) -> list[str]:
    return [t.strip() for t in page.locator(f"{table} tbody tr td:nth-child({index})").all_text_contents()]


def _days(values: list[str]) -> list[date]:
    return [datetime.strptime(v[:10], "%d/%m/%Y").date() for v in values]


def _sorted_header(page, table: str) -> dict[str, str]:
    return {th.locator("span").first.inner_text(): th.get_attribute("aria-sort")
            for th in page.locator(f"{table} thead th").all() if th.get_attribute("aria-sort")}


STATUS_ORDER = ["en préparation", "demande de DTE envoyée", "convocations envoyées", "résultats saisis", "validée",
                "finalisée", "annulée"]


def test_agent_list_sorted_by_column_headers_and_paged(web, platform):
    page, checker = web
    demo_login(page, checker, UD01)
    page.goto("/agent/sessions")
    total = platform.seeder.call("GET", "/sessions?per_page=1", platform.seeder.ud)["total"]
    assert total > 20
    assert _sorted_header(page, "#liste-sessions") == {"Début": "descending"}  # newest start first
    starts = _days(_column(page, "#liste-sessions", 4))
    assert starts == sorted(starts, reverse=True) and len(starts) == 20
    checker.check("par-defaut")

    page.get_by_role("link", name="Trier par début, ordre croissant").click()
    assert _sorted_header(page, "#liste-sessions") == {"Début": "ascending"}
    first_page = _days(_column(page, "#liste-sessions", 4))
    assert first_page == sorted(first_page)
    page.get_by_role("link", name="Page suivante").click()
    second_page = _days(_column(page, "#liste-sessions", 4))
    assert "tri=debut" in page.url and "ordre=asc" in page.url  # the pages keep the order
    assert len(first_page) + len(second_page) == total and first_page[-1] <= second_page[0]
    checker.check("debut-croissant-page-2")

    # By status (the workflow's order, S3), reached from the keyboard; sorting starts again at page 1.
    page.locator("#tri-statut").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**tri=statut**")
    assert _sorted_header(page, "#liste-sessions") == {"Statut": "ascending"}
    assert "page 1 sur" in page.locator("#liste-sessions caption").inner_text()
    statuses = _column(page, "#liste-sessions", 6)
    assert [STATUS_ORDER.index(s) for s in statuses] == sorted(STATUS_ORDER.index(s) for s in statuses)
    page.get_by_role("link", name="Trier par statut, ordre décroissant").click()
    assert _column(page, "#liste-sessions", 6)[0] == "annulée"
    checker.check("statut-decroissant")

    # The filters and the order together; an order that does not exist is refused, in French.
    page.get_by_label("Statut").select_option("en_preparation")
    page.get_by_role("button", name="Filtrer").click()
    assert "statut=en_preparation" in page.url and "tri=statut" in page.url
    assert set(_column(page, "#liste-sessions", 6)) == {"en préparation"}
    page.get_by_role("link", name="Trier par session, ordre croissant").click()
    ids = _column(page, "#liste-sessions", 1)
    assert ids == sorted(ids) and "statut=en_preparation" in page.url
    checker.check("filtre-et-tri")
    page.goto("/agent/sessions?tri=createur")
    assert "Ce tri n'existe pas : choisissez une colonne du tableau." in summary(page)
    checker.check("tri-inconnu")

    # S10's agréments to follow open the sessions of one site and titre; the notice removes that filter.
    seeder = platform.seeder
    page.goto(f"/agent/sessions?site={seeder.site_id}&titre=TP-00463&statut=annulee")
    assert "pour le titre TP-00463" in page.locator("#filtre-agrement").inner_text()
    assert set(_column(page, "#liste-sessions", 6)) == {"annulée"}
    checker.check("site-et-titre")
    page.get_by_role("link", name="Voir toutes les sessions").click()
    assert "site=" not in page.url and "statut=annulee" in page.url
    assert page.locator("#filtre-agrement").count() == 0
    page.goto("/agent/sessions?site=../../etc&titre=TP-00463")
    assert "Le filtre par site ou par titre est invalide" in summary(page)


def test_centre_list_sorted_and_paged(web, platform):
    page, checker = web
    demo_login(page, checker, GRETA)
    page.get_by_role("link", name="Sessions du centre").first.click()
    assert "page 1 sur 2" in page.locator("#sessions caption").inner_text()
    assert page.locator("#tri-departement").count() == 0  # one centre's list: no département column
    page.get_by_role("link", name="Trier par fin, ordre croissant").click()
    assert _sorted_header(page, "#sessions") == {"Fin": "ascending"}
    ends = _days(_column(page, "#sessions", 4))
    assert ends == sorted(ends)
    checker.check("fin-croissante")
    page.get_by_role("link", name="Page suivante").click()
    assert "page 2 sur 2" in page.locator("#sessions caption").inner_text()
    assert _sorted_header(page, "#sessions") == {"Fin": "ascending"}
    later = _days(_column(page, "#sessions", 4))
    assert later == sorted(later) and later[0] >= ends[-1]
    checker.check("page-2")
    page.goto("/centre/sessions?statut=finalisee")
    assert "Aucune session de votre centre ne correspond à ces critères." in page.locator("#aucune-session").inner_text()
    checker.check("aucune")


# --- the dashboard: S10's figures, B2's warnings ---------------------------------------------------------------
def test_dashboard_sessions_figures_and_warnings_open_their_lists_s10_b2(web, platform):
    from ceres_sessions.service_layer import dashboard

    page, checker = web
    seeder, near = platform.seeder, platform.sessions["dte_proche"]
    dashboard.scan(platform.runtimes["sessions"])  # B2's scanner round (every 5 minutes in production)
    board = seeder.call("GET", "/tableau-de-bord", seeder.ud)
    counts = {row["status"]: row["count"] for row in board["par_statut"]}
    demo_login(page, checker, UD01)
    assert page.locator("#statut-en_preparation .ceres-nombre").inner_text() == str(counts["en_preparation"])
    assert page.locator("#statut-annulee .ceres-nombre").inner_text() == str(counts["annulee"])
    assert page.locator("#chiffre-total .ceres-count").inner_text() == str(sum(counts.values()))
    assert page.locator("#chiffre-dte .ceres-count").inner_text() == str(board["demandes_dte"])
    due = add_months(date.fromisoformat(near["starts_at"][:10]), -3)
    warning = page.locator("#alertes tbody tr", has_text=near["public_id"])
    assert f"Demande de DTE à faire au plus tard le {fr(due)}" in warning.inner_text()
    assert "Demande de DTE" in warning.locator("td").nth(1).inner_text()
    checker.check("agent")

    # Each count opens the list it counts: same total.
    page.locator("#statut-en_preparation").get_by_role("link").click()
    assert "statut=en_preparation" in page.url
    assert page.get_by_label("Statut").input_value() == "en_preparation"
    caption = page.locator("#liste-sessions caption").inner_text()
    assert caption.startswith(f"{counts['en_preparation']} session"), caption
    checker.check("liste-en-preparation")
    page.goto("/tableau-de-bord")
    page.locator("#chiffre-dte").get_by_role("link").click()
    assert page.get_by_label("Demande de DTE envoyée").is_checked()
    assert page.locator("#liste-sessions caption").inner_text().startswith(f"{board['demandes_dte']} session")
    checker.check("liste-dte")
    page.goto("/tableau-de-bord")
    warning = page.locator("#alertes tbody tr", has_text=near["public_id"])
    warning.get_by_role("link").click()
    assert page.locator("h1").inner_text() == f"Session {near['public_id']}"

    # The centre's dashboard: its own figures, opening its own list.
    page.get_by_role("button", name="Se déconnecter").click()
    demo_login(page, checker, GRETA)
    centre_board = seeder.call("GET", "/tableau-de-bord", seeder.centre)
    centre_counts = {row["status"]: row["count"] for row in centre_board["par_statut"]}
    assert page.locator("#statut-convocations_envoyees .ceres-nombre").inner_text() == str(
        centre_counts["convocations_envoyees"])
    assert page.locator("#alertes tbody tr", has_text=near["public_id"]).count() == 1
    checker.check("centre")
    page.locator("#statut-convocations_envoyees").get_by_role("link").click()
    assert "/centre/sessions?" in page.url
    assert page.locator("#sessions caption").inner_text().startswith(
        f"{centre_counts['convocations_envoyees']} session")
    checker.check("centre-liste")


def test_dashboard_empty_state_for_a_territory_without_sessions(web, platform, issuer):
    from ceres_identity.demo import DEMO_PASSWORD

    page, checker = web
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill("ud69@ceres.demo")
    page.get_by_label("Mot de passe").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Se connecter", exact=True).click()
    page.wait_for_url("**/tableau-de-bord")
    assert "Aucune session de votre périmètre" in page.locator("#aucune-session-tableau").inner_text()
    assert page.locator("#sessions-par-statut").count() == 0
    # Warnings and agréments of the Rhône, as the service counts them (dated data: maybe none, maybe some).
    board = platform.seeder.call("GET", "/tableau-de-bord", Seeder._auth(issuer, "ud", departements=["69"]))
    assert sum(row["count"] for row in board["par_statut"]) == 0
    if board["alertes"]:
        assert page.locator("#alertes tbody tr").count() == len(board["alertes"])
    else:
        assert page.locator("#aucune-alerte").is_visible()
    follow = board["agrements_a_suivre"]
    if follow["expirant"]["count"] or follow["retires_avec_sessions"]["count"]:
        assert page.locator("#agrements-a-suivre li").count() == len(follow["expirant"]["agrements"]) + len(
            follow["retires_avec_sessions"]["agrements"])
    else:
        assert page.locator("#aucun-agrement").is_visible()
    checker.check("vide")
