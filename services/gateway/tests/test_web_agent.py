"""The agents' journeys in Debian's Chromium against the whole platform (five services on PostgreSQL, events over
RabbitMQ): the UD's sessions (S5, S8), the printing workflow (P1-P5, P7, P9), agréments (E7), the DGEFP's and
administrator's pilotage (S4, S9). Each page: no console error, no axe-core violation, a screenshot."""
from __future__ import annotations

import io
import sys
import uuid
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from webplatform import browser, demo_login, menu_labels, paris_today, start_full_platform, wait_for  # noqa: E402,F401
from webplatform import Checker  # noqa: E402

PARIS = ZoneInfo("Europe/Paris")
GRETA = "30012845100014"  # the demo's centre in Ain (01)
CHEVALIER, MARTIN, ROUSSEAU = 1, 2, 8  # the candidates demo's CERES ids
UD01 = "Agent UD de l'Ain (01)"


class Seeder:
    """Sessions walked through the sessions API as the centre would, the service clock set back so that a session
    of last month was prepared in time (S4); nothing written behind the services' backs."""

    def __init__(self, platform, issuer):
        from ceres_establishments.service_layer.sites import site_id_for

        self.base = platform.urls["sessions"]
        self.site_id = site_id_for(GRETA, 1)
        self.http = requests.Session()
        self.centre = self._auth(issuer, "centre", sirets=[GRETA])
        self.ud = self._auth(issuer, "ud", departements=["01"])
        self.jures = [self._jure(nom) for nom in ("LAMBERT", "FAURE")]

    @staticmethod
    def _auth(issuer, role, **scope):
        return {"Authorization": "Bearer " + issuer.issue(f"{role}-{uuid.uuid4().hex[:6]}", role, scope=scope,
                                                          ttl=3600)}

    def call(self, method, path, headers, body=None, expect=200):
        answer = self.http.request(method, f"{self.base}{path}", json=body, headers=headers, timeout=15)
        assert answer.status_code == expect, (path, answer.status_code, answer.text)
        return answer.json()

    def _jure(self, nom):
        jure = self.call("POST", "/jures", self.ud, {"civilite": "M", "nom": nom, "prenom": "Paul",
                                                     "departement": "01", "region": "84"}, 201)
        self.call("POST", f"/jures/{jure['id']}/habilitations", self.ud, {
            "titre_code": "TP-00463", "valid_from": "2020-01-01", "valid_until": "2030-12-31"}, 201)
        return jure["id"]

    def future(self, days_ahead: int) -> dict:
        return self.call("POST", "/sessions", self.centre, {
            "site_id": self.site_id, "titre_code": "TP-00463",
            "starts_on": (date.today() + timedelta(days=days_ahead)).isoformat()}, 201)

    def with_results(self, decisions: dict[int, tuple[str, list[str]]]) -> dict:
        """A session of last month, prepared in time, its results entered: « résultats saisis »."""
        from ceres_sessions import clock

        start = date.today() - timedelta(days=40)
        clock.fix(datetime.combine(start - timedelta(days=110), time(10), tzinfo=timezone.utc))
        try:
            s = self.call("POST", "/sessions", self.centre, {"site_id": self.site_id, "titre_code": "TP-00463",
                                                            "starts_on": start.isoformat(),
                                                            "ends_on": (start + timedelta(days=2)).isoformat()}, 201)
            sid = s["id"]
            for cid in decisions:
                self.call("POST", f"/sessions/{sid}/candidats", self.centre, {"candidate_id": cid}, 201)
            self.call("POST", f"/sessions/{sid}/demande-dte", self.centre, {"candidate_count": len(decisions)})
            self.call("POST", f"/sessions/{sid}/convocations", self.centre)
            for jure in self.jures:
                self.call("POST", f"/sessions/{sid}/jury", self.centre, {"jure_id": jure}, 201)
        finally:
            clock.fix(None)
        self.call("POST", f"/sessions/{sid}/date-fin-reelle", self.centre,
                  {"real_end_date": (start + timedelta(days=2)).isoformat()})
        return self.call("PUT", f"/sessions/{sid}/resultats", self.centre, {"results": [
            {"candidate_id": cid, "decision": d, "ccps_obtained": ccps} for cid, (d, ccps) in decisions.items()]})


DECISIONS = {CHEVALIER: ("titre", []), MARTIN: ("partiel", ["TP-00463-CCP1"]), ROUSSEAU: ("ajourne", [])}


@pytest.fixture(scope="module")
def platform(infra, amqp_url, issuer):
    started, close = start_full_platform(infra, amqp_url, issuer)
    seeder = Seeder(started, issuer)
    started.sessions = {"a_valider": seeder.with_results(DECISIONS), "a_imprimer": seeder.with_results(DECISIONS),
                        "a_annuler": seeder.future(130), "a_reporter": seeder.future(100)}
    for days in range(19):  # 23 sessions in the UD's scope: two pages of 20
        seeder.future(150 + days)
    started.seeder = seeder
    yield started
    close()


@pytest.fixture
def web(browser, platform, request):
    context = browser.new_context(base_url=platform.url, locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    checker = Checker(page, "agent-" + request.node.name.removeprefix("test_"))
    yield page, checker
    context.close()


def fr(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def flash(page) -> str:
    return page.locator(".fr-alert--success").first.inner_text()


# --- 1. the UD on sessions (S5, S8) -----------------------------------------------------------------------------
def test_ud_lists_filters_and_validates_a_session_s8(web, platform):
    page, checker = web
    demo_login(page, checker, UD01)
    assert menu_labels(page)[:6] == ["Tableau de bord", "Centres et sites", "Enregistrer un centre", "Sessions",
                                     "Contrôles", "Impressions"]
    page.get_by_role("link", name="Sessions", exact=True).first.click()
    total = platform.seeder.call("GET", "/sessions?per_page=1", platform.seeder.ud)["total"]
    assert 23 <= total <= 40  # ours, and the demo's own session(s) of Ain
    caption = page.locator("#liste-sessions caption").inner_text()
    assert caption.startswith(f"{total} sessions — page 1 sur 2"), caption
    assert page.locator("#liste-sessions tbody tr").count() == 20
    checker.check("liste")
    page.get_by_role("link", name="Page suivante").click()
    assert page.locator("#liste-sessions tbody tr").count() == total - 20
    assert "page 2 sur 2" in page.locator("#liste-sessions caption").inner_text()
    checker.check("page-2")

    # A date range that ends before it starts: said next to the field, nothing asked of the service.
    page.goto("/agent/sessions?du=2026-05-01&au=2026-04-01")
    assert page.locator("#au-erreur").inner_text() == "La fin de la période ne peut pas précéder son début."
    checker.check("filtre-invalide")
    page.goto("/agent/sessions")
    page.get_by_label("Statut").select_option("resultats_saisis")
    page.get_by_role("button", name="Filtrer").click()
    rows = page.locator("#liste-sessions tbody tr")
    assert rows.count() == 2 and "résultats saisis" in rows.first.text_content()
    last_month = date.today() - timedelta(days=60)
    page.get_by_label("Début à partir du").fill(last_month.isoformat())
    page.get_by_label("Début jusqu'au").fill(date.today().isoformat())
    page.get_by_role("button", name="Filtrer").click()
    assert page.locator("#liste-sessions tbody tr").count() == 2
    page.get_by_label("Statut").select_option("annulee")
    page.get_by_role("button", name="Filtrer").click()
    assert "Aucune session de votre périmètre ne correspond" in page.locator("#aucune-session").inner_text()
    checker.check("aucune")

    target = platform.sessions["a_valider"]
    page.goto(f"/agent/sessions/{target['id']}")
    assert page.locator("h1").inner_text() == f"Session {target['public_id']}"
    assert page.locator("#statut").inner_text() == "résultats saisis"
    assert "CHEVALIER" in page.locator("#candidats").inner_text()
    history = page.locator("#historique tbody").inner_text()
    assert "demande de DTE" in history and "saisie des résultats" in history
    checker.check("session")
    page.get_by_role("link", name="Valider les résultats").click()
    assert "Confirmez la validation" in page.locator("#confirmation").inner_text()
    assert "CHEVALIER Henri : titre obtenu" in page.locator("#decisions").inner_text()
    checker.check("confirmation")
    page.get_by_role("button", name="Confirmer la validation").click()
    assert f"La session {target['public_id']} est validée" in flash(page)
    assert page.locator("#statut").inner_text() == "validée"
    assert "résultats saisis → validée" in page.locator("#historique tbody").inner_text()
    assert page.get_by_role("link", name="Valider les résultats").count() == 0
    checker.check("validee")


def test_ud_postpones_a_session_not_started_s5(web, platform):
    page, checker = web
    demo_login(page, checker, UD01)
    target = platform.sessions["a_reporter"]
    page.goto(f"/agent/sessions/{target['id']}")
    page.get_by_role("link", name="Reporter la session").click()
    checker.check("formulaire")
    page.get_by_label("Nouvelle date de début").fill((date.today() - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Reporter la session").click()
    assert page.locator("#reason-erreur").inner_text() == "Saisissez le motif du report."
    page.get_by_label("Motif du report (obligatoire)").fill("Salle indisponible")
    page.get_by_role("button", name="Reporter la session").click()
    # S5: the service's reason, in the page.
    assert ("La nouvelle date de début doit être postérieure à aujourd'hui."
            in page.locator("#erreur-formulaire").inner_text())
    checker.check("date-passee")
    new_start = date.today() + timedelta(days=120)
    page.get_by_label("Nouvelle date de début").fill(new_start.isoformat())
    page.get_by_label("Nouvelle date de fin").fill((new_start + timedelta(days=2)).isoformat())
    page.get_by_role("button", name="Reporter la session").click()
    assert f"est reportée du {fr(new_start)} au {fr(new_start + timedelta(days=2))}" in flash(page)
    assert page.locator("#statut").inner_text() == "en préparation"  # a report keeps the status
    assert f"{fr(new_start)} à 08:00" in page.locator("#session").inner_text()
    assert "Salle indisponible" in page.locator("#historique tbody").inner_text()
    checker.check("reportee")


def test_ud_annuls_a_session_after_confirming_with_a_reason_s8(web, platform):
    page, checker = web
    demo_login(page, checker, UD01)
    target = platform.sessions["a_annuler"]
    page.goto(f"/agent/sessions/{target['id']}")
    page.get_by_role("link", name="Annuler la session").click()
    assert "L'annulation est définitive" in page.locator("#confirmation").inner_text()
    page.get_by_role("button", name="Confirmer l'annulation").click()
    assert page.locator("#reason-erreur").inner_text() == "Saisissez le motif de l'annulation."
    checker.check("motif-manquant")
    page.goto(f"/agent/sessions/{target['id']}")
    assert page.locator("#statut").inner_text() == "en préparation"  # nothing happened without the reason
    page.get_by_role("link", name="Annuler la session").click()
    page.get_by_label("Motif de l'annulation (obligatoire)").fill("Confinement")
    page.get_by_role("button", name="Confirmer l'annulation").click()
    assert f"La session {target['public_id']} est annulée." in flash(page)
    assert page.locator("#statut").inner_text() == "annulée"
    assert "Confinement" in page.locator("#historique tbody").inner_text()
    assert page.locator("#actions-session").count() == 0
    checker.check("annulee")


# --- 2. the printing workflow (P1-P5, P7, P9) ----------------------------------------------------------------------
def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)


def test_ud_plans_a_control_records_its_outcome_and_cancels_another_s10(web, platform):
    page, checker = web
    target = platform.sessions["a_imprimer"]
    first_day = date.fromisoformat(target["starts_at"][:10])
    demo_login(page, checker, UD01)
    page.goto(f"/agent/sessions/{target['id']}")
    assert page.locator("#aucun-controle").is_visible()
    # The history shows who enrolled the candidates, not only the steps of the workflow.
    assert "inscription d'un candidat : CHEVALIER" in page.locator("#historique").inner_text()
    page.get_by_role("link", name="Programmer un contrôle").click()
    page.get_by_role("button", name="Programmer le contrôle").click()
    assert page.locator("#kind-erreur").inner_text() == "Choisissez : sur place ou sur pièces."
    assert page.locator("#planned_on-erreur").inner_text() == "Saisissez la date du contrôle."
    checker.check("controle-incomplet")
    page.locator("label[for=kind-sur_place]").click()
    page.get_by_label("Date prévue").fill((first_day - timedelta(days=5)).isoformat())
    page.get_by_role("button", name="Programmer le contrôle").click()
    # The service's rule, next to the field: an on-site control happens during the session.
    assert page.locator("#planned_on-erreur").inner_text().startswith(
        f"Un contrôle sur place a lieu pendant la session, du {fr(first_day)}")
    checker.check("controle-hors-session")
    page.get_by_label("Date prévue").fill((first_day + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Programmer le contrôle").click()
    assert f"Le contrôle de la session {target['public_id']} est programmé." in flash(page)
    row = page.locator("#controles-session tbody tr")
    assert row.count() == 1 and "sur place" in row.inner_text() and "programmé" in row.inner_text()
    assert f"contrôle programmé : contrôle sur place du {fr(first_day + timedelta(days=1))}" in \
        page.locator("#historique").inner_text()
    checker.check("controle-programme")

    row.get_by_role("link").click()
    page.locator("label[for=outcome-non_conforme]").click()
    page.get_by_role("button", name="Enregistrer le résultat").click()
    assert "obligatoire sauf si le contrôle est conforme" in page.locator("#observations-erreur").inner_text()
    checker.check("controle-sans-constat")
    page.get_by_label("Constats").fill("Plateau technique incomplet.")
    page.get_by_role("button", name="Enregistrer le résultat").click()
    assert "Le résultat du contrôle est enregistré." in flash(page)
    assert page.locator("#etat-controle").inner_text() == "réalisé"
    assert page.locator("#resultat-controle").inner_text().startswith("non conforme, saisi le")
    assert not page.get_by_role("button", name="Enregistrer le résultat").count()  # closed
    checker.check("controle-realise")

    # A second one, on the documents, cancelled after a confirmation with a reason.
    page.goto(f"/agent/sessions/{target['id']}/controles")
    page.locator("label[for=kind-sur_pieces]").click()
    page.get_by_label("Date prévue").fill(paris_today().isoformat())
    page.get_by_role("button", name="Programmer le contrôle").click()
    page.locator("#controles-session tbody tr").nth(1).get_by_role("link").click()
    page.get_by_role("link", name="Annuler ce contrôle").click()
    assert "cela ne peut pas être défait" in page.locator(".fr-alert--warning").inner_text()
    page.get_by_role("button", name="Confirmer l'annulation").click()
    assert page.locator("#reason-erreur").inner_text() == "Saisissez le motif de l'annulation."
    checker.check("controle-annulation-sans-motif")
    page.get_by_label("Motif de l'annulation (obligatoire)").fill("Contrôle fait sur place")
    page.get_by_role("button", name="Confirmer l'annulation").click()
    assert "Le contrôle est annulé." in flash(page)
    assert "annulé" in page.locator("#controles-session tbody tr").nth(1).inner_text()

    # S10: the dashboard counts them; each count opens its list.
    page.goto("/tableau-de-bord")
    failing = page.locator("#controles-non_conformes")
    assert failing.locator(".ceres-count").inner_text() == "1"
    checker.check("tableau-controles")
    failing.get_by_role("link").click()
    assert page.locator("#controles tbody tr").count() == 1
    assert target["public_id"] in page.locator("#controles").inner_text()
    checker.check("liste-non-conformes")
    page.get_by_role("link", name="Contrôles programmés à venir").click()
    assert page.locator("#aucun-controle").is_visible()


def test_ud_prints_a_validated_session_p1_to_p5_p9(web, platform, issuer):
    page, checker = web
    seeder = platform.seeder
    target = platform.sessions["a_imprimer"]
    seeder.call("POST", f"/sessions/{target['id']}/validation", seeder.ud)
    printing = platform.urls["printing"]
    wait_for(lambda: requests.get(f"{printing}/sessions/{target['id']}/candidates", headers=seeder.ud,
                                  timeout=10).ok, what="printing's documents of the validated session")

    demo_login(page, checker, UD01)
    tiles = page.locator("#indicateurs .ceres-count").all_inner_texts()
    assert int(tiles[0]) >= 1  # P9 on the dashboard
    page.get_by_role("link", name="Impressions", exact=True).first.click()
    checker.check("compteurs")
    page.get_by_role("link", name="Sessions validées sans demande d'impression").click()
    listing = page.locator("#liste-impressions")
    assert target["public_id"] in listing.inner_text()
    checker.check("liste-sans-demande")
    listing.get_by_role("link", name=target["public_id"]).click()
    table = page.locator("#candidats-impression tbody")
    assert table.locator("tr").count() == 3
    assert "Diplôme, Lettre d'accompagnement du diplôme" in table.locator("tr").nth(0).inner_text()
    assert "Notification d'échec" in table.inner_text() and "À vérifier" in table.inner_text()
    checker.check("candidats")

    table.get_by_role("link", name="Monsieur CHEVALIER Henri").click()
    assert page.locator("h1").inner_text() == "Monsieur CHEVALIER Henri"
    assert page.get_by_role("link", name="Candidat précédent").count() == 0
    preview = page.locator("#documents a").first
    answer = page.request.get(preview.get_attribute("href"))
    assert answer.headers["content-type"] == "application/pdf"
    text = pdf_text(answer.body())
    assert "CHEVALIER Henri" in text and "Ouvrier du paysage" in text  # P10 wording, previewed (P2)
    checker.check("candidat")
    page.get_by_role("button", name="Envoyer pour impression").click()
    assert page.locator("#conformes-erreur").inner_text() == "Cochez « Données vérifiées et conformes »."
    checker.check("non-coche")
    page.locator("label[for=conformes]").click()
    page.get_by_role("button", name="Envoyer pour impression").click()
    # P3: the next candidate opens.
    assert "Demande d'impression transmise pour Monsieur CHEVALIER Henri." in flash(page)
    assert page.locator("h1").inner_text() == "Madame MARTIN Sophie Anne"
    checker.check("candidat-suivant")
    page.get_by_role("link", name="Candidat précédent").click()
    mention = page.locator(".ceres-mention").first.inner_text()
    assert mention == f"Demande d'impression initiale transmise le {fr(paris_today())}"  # P4
    assert "Duplicata déjà demandés : 0" in page.locator("#duplicata-info").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger l'attestation de réussite (PDF)").click()
    assert "CHEVALIER" in pdf_text(Path(download.value.path()).read_bytes())  # P4
    # P5: a duplicata is refused before 7 days, with the date it becomes possible.
    page.locator("label[for=conformes]").click()
    page.get_by_role("button", name="Demander un duplicata").click()
    assert "Un duplicata ne peut être demandé que 7 jours après la dernière demande" in page.locator(
        "#erreur-formulaire").inner_text()
    checker.check("duplicata-trop-tot")
    rt = platform.runtimes["printing"].printing
    real_clock = rt.clock
    rt.clock = lambda: real_clock() + timedelta(days=8)
    try:
        page.locator("label[for=conformes]").click()
        page.get_by_role("button", name="Demander un duplicata").click()
        assert "Duplicata demandé pour Monsieur CHEVALIER Henri (1 au total)." in flash(page)
        assert "Duplicata déjà demandés : 1" in page.locator("#duplicata-info").inner_text()
        # The duplicata's items are dated 8 days ahead: batch them now (the service's end-of-day path), or the
        # batch worker, back on the real clock, would wait for them to come of age.
        from ceres_printing.batches import build_due_batches

        build_due_batches(platform.runtimes["printing"], force=True)
    finally:
        rt.clock = real_clock
    checker.check("duplicata")
    # P9: one of three sent: the session is now among the partial ones, and its count opens the list.
    page.goto("/agent/impressions")
    page.get_by_role("link", name="Sessions aux demandes d'impression partielles").click()
    assert target["public_id"] in page.locator("#liste-impressions").inner_text()
    assert "1 sur 3" in page.locator("#liste-impressions").inner_text()
    checker.check("liste-partielles")


def test_pnd_follow_up_and_address_correction_p7(web, platform, issuer):
    from ceres_printing.afpa_simulator import AfpaSimulator

    page, checker = web
    seeder = platform.seeder
    target = platform.sessions["a_imprimer"]
    printing = platform.urls["printing"]
    base = f"{printing}/sessions/{target['id']}/candidates/{ROUSSEAU}"
    if requests.get(base, headers=seeder.ud, timeout=10).status_code != 200:
        pytest.fail("the printing test must run first (it validates the session)", pytrace=False)
    assert requests.post(f"{base}/verification", json={"conformes": True}, headers=seeder.ud, timeout=10).ok
    assert requests.post(f"{base}/print-requests", json={"kind": "initial"}, headers=seeder.ud, timeout=10).ok
    number = requests.get(base, headers=seeder.ud, timeout=10).json()["documents"][0]["number"]
    afpa = AfpaSimulator(printing, issuer.issue("afpa-client", "afpa", ttl=3600), pnd={number})

    def reported():  # the batch worker renders the PDFs first: the Afpa takes each batch once it is ready
        afpa.run_once()
        return requests.get(base, headers=seeder.ud, timeout=10).json()["pnd"]

    wait_for(reported, timeout=120, what="the Afpa's PND report")

    demo_login(page, checker, UD01)
    page.goto(f"/agent/impressions/sessions/{target['id']}")
    assert "PND" in page.locator("#candidats-impression tbody tr").nth(2).inner_text()
    page.get_by_role("link", name="Madame ROUSSEAU Élodie").click()
    assert "Pli non distribuable" in page.locator("#pnd").inner_text()
    checker.check("pnd")
    page.get_by_role("link", name="Corriger l'adresse du candidat").click()
    assert page.get_by_label("Adresse (numéro et voie)").input_value() == "6 avenue Alsace-Lorraine"
    page.get_by_label("Adresse (numéro et voie)").fill("")
    page.get_by_role("button", name="Enregistrer l'adresse").click()
    assert page.locator("#address-lines-0-erreur").inner_text() == "Saisissez au moins une ligne d'adresse."
    checker.check("adresse-manquante")
    page.get_by_label("Adresse (numéro et voie)").fill("18 avenue Alsace-Lorraine")
    page.get_by_role("button", name="Enregistrer l'adresse").click()
    assert "L'adresse du candidat est corrigée" in flash(page)
    assert page.locator("h1").inner_text() == "Madame ROUSSEAU Élodie"
    # P7: candidate.updated reaches printing, which has the same documents sent again — no duplicata.
    wait_for(lambda: not requests.get(base, headers=seeder.ud, timeout=10).json()["pnd"], what="the resend")
    page.reload()
    assert page.locator("#pnd").count() == 0
    assert "renvoyé le" in page.locator("#plis").inner_text()
    assert "Duplicata déjà demandés : 0" in page.locator("#duplicata-info").inner_text()
    checker.check("renvoye")


# --- 3. agréments (E7) and the activation letter ------------------------------------------------------------------
def test_dreets_instructs_grants_refuses_and_withdraws_agrements_e7(web):
    page, checker = web
    demo_login(page, checker, "Agent DREETS Auvergne-Rhône-Alpes (84)")
    page.get_by_role("link", name="Agréments", exact=True).first.click()
    assert page.locator("#etat-vide").is_visible()
    page.get_by_label("Rechercher un site").fill("lyonnais")
    page.get_by_role("button", name="Rechercher").click()
    assert page.locator("#sites tbody tr").count() == 2
    checker.check("sites")
    page.get_by_role("link", name="Institut lyonnais — Villeurbanne").click()
    rows = page.locator("#agrements tbody tr")
    assert rows.count() == 1 and "accordé" in rows.first.inner_text() and "oui" in rows.first.inner_text()
    checker.check("site")
    page.get_by_label("Code du titre").fill("TP-99999")
    page.get_by_role("button", name="Enregistrer la demande").click()
    assert page.locator("#erreur-formulaire").is_visible()  # the service's refusal, in the page
    checker.check("titre-inconnu")
    page.get_by_label("Code du titre").fill("TP-00391")
    page.get_by_role("button", name="Enregistrer la demande").click()
    assert "Demande d'agrément enregistrée pour le titre TP-00391" in flash(page)
    row = page.locator("#agrements tbody tr", has_text="TP-00391")
    assert "en cours d'instruction" in row.inner_text()
    row.get_by_role("link", name="Accorder l'agrément TP-00391").click()
    page.get_by_label("Accordé à partir du").fill(date.today().isoformat())
    page.get_by_label("Jusqu'au").fill("2031-12-31")  # beyond the titre's end of validity (15/03/2027)
    page.get_by_role("button", name="Confirmer : accorder").click()
    assert page.locator("#erreur-formulaire").is_visible()
    checker.check("au-dela-du-titre")
    page.get_by_label("Jusqu'au").fill("2027-03-15")
    page.get_by_role("button", name="Confirmer : accorder").click()
    assert "Agrément TP-00391 : accordé." in flash(page)
    assert "15/03/2027" in page.locator("#agrements tbody tr", has_text="TP-00391").inner_text()
    # Withdraw: a confirmation page, and the reason is required.
    page.locator("#agrements tbody tr", has_text="TP-00463").get_by_role(
        "link", name="Retirer l'agrément TP-00463").click()
    assert "Confirmez la décision" in page.locator("#confirmation").inner_text()
    page.get_by_role("button", name="Confirmer : retirer").click()
    assert page.locator("#reason-erreur").inner_text() == "Le motif est obligatoire."
    checker.check("retrait-sans-motif")
    page.get_by_label("Motif (obligatoire)").fill("Contrôle défavorable")
    page.get_by_role("button", name="Confirmer : retirer").click()
    assert "Agrément TP-00463 : retiré." in flash(page)
    assert "non" in page.locator("#agrements tbody tr", has_text="TP-00463").inner_text()
    checker.check("retire")


def test_agent_shows_a_centre_activation_code_and_prints_its_letter(web):
    page, checker = web
    demo_login(page, checker, "Agent DREETS Auvergne-Rhône-Alpes (84)")
    page.goto("/agent/agrements?q=lyonnais")
    page.get_by_role("link", name="Courrier d'activation de INSTITUT LYONNAIS").first.click()
    facts = page.locator("#code-activation").inner_text()
    assert "41822976100014" in facts
    checker.check("code")
    letter = page.request.get(page.locator("#courrier").get_attribute("href"))
    assert letter.headers["content-type"] == "application/pdf"
    text = pdf_text(letter.body())
    assert "41822976100014" in text or "CERES" in text
    code = facts.split("Code d'activation")[1].split("\n")[1].strip()
    assert code and code.replace("-", "").replace(" ", "") in text.replace("-", "").replace(" ", "")


# --- 4. DGEFP and administrator (catalogue, S4, S9) ---------------------------------------------------------------
def test_dgefp_edits_and_imports_the_titres_catalogue(web):
    import json

    page, checker = web
    demo_login(page, checker, "DGEFP")
    assert "Titres" in menu_labels(page) and "Opérations de masse" not in menu_labels(page)
    page.get_by_role("link", name="Titres", exact=True).first.click()
    assert "TP-00463" in page.locator("#titres").inner_text()
    checker.check("catalogue")
    page.get_by_role("link", name="Modifier TP-00258").first.click()
    page.get_by_label("Niveau (3 à 8)").fill("9")
    page.get_by_role("button", name="Enregistrer").click()
    assert page.locator("#level-erreur").inner_text() == "Niveau entre 3 et 8."
    checker.check("niveau-invalide")
    page.get_by_label("Niveau (3 à 8)").fill("4")
    page.get_by_role("button", name="Enregistrer").click()
    assert "Le titre TP-00258" in flash(page) and "est modifié" in flash(page)
    page.get_by_role("button", name="Importer").click()
    assert page.locator("#fichier-erreur").inner_text() == "Choisissez un fichier CSV ou JSON."
    titre = {"code": "TP-01999", "version_date": "2024-01-10", "libelle": "Agent de test du web", "kind": "TP",
             "level": 3, "nsf_codes": ["214r"], "rncp": "RNCP1999", "ccps": []}
    page.get_by_label("Fichier du catalogue").set_input_files(files=[{
        "name": "titres.json", "mimeType": "application/json", "buffer": json.dumps([titre]).encode()}])
    page.get_by_role("button", name="Importer").click()
    page.get_by_role("button", name="Confirmer l'import").click()  # after its dry run (test_web_admin_fixes)
    assert "Catalogue importé" in flash(page)
    assert "Agent de test du web" in page.locator("#titres").inner_text()
    checker.check("importe")


def test_admin_opens_a_relaxation_and_runs_a_mass_operation_s4_s9(web, platform):
    page, checker = web
    demo_login(page, checker, "Administrateur")
    page.get_by_role("link", name="Assouplissements", exact=True).first.click()
    assert page.locator("#aucune-periode").is_visible()
    page.get_by_label("Du").fill("2026-03-10")
    page.get_by_label("Au").fill("2026-03-01")
    page.get_by_label("Motif (obligatoire)").fill("Confinement")
    page.get_by_role("button", name="Ouvrir la période").click()
    assert page.locator("#ends_on-erreur").inner_text() == "La fin de la période ne peut pas précéder son début."
    checker.check("periode-invalide")
    page.get_by_label("Au").fill("2026-04-30")
    page.get_by_role("button", name="Ouvrir la période").click()
    page.get_by_role("button", name="Confirmer l'ouverture de la période").click()  # test_web_admin_fixes
    assert "La période d'assouplissement est ouverte." in flash(page)
    assert "Confinement" in page.locator("#periodes").inner_text()
    checker.check("periode")
    # S4: a period in force is closed early, after a confirmation with a reason.
    today = paris_today()
    page.get_by_label("Du").fill(today.isoformat())
    page.get_by_label("Au").fill((today + timedelta(days=30)).isoformat())
    page.get_by_label("Motif (obligatoire)").fill("Intempéries en cours")
    page.get_by_role("button", name="Ouvrir la période").click()
    page.get_by_role("button", name="Confirmer l'ouverture de la période").click()
    current = next(p for p in platform.seeder.call("GET", "/assouplissements", platform.seeder.ud)
                   if p["reason"] == "Intempéries en cours")
    assert current["state"] == "en_cours"
    page.locator(f"#periode-{current['id']}").get_by_role("link", name="Clore").click()
    assert "ne s'appliquera à aucune date" in page.locator(".fr-alert--warning").inner_text()  # it starts today
    page.get_by_role("button", name="Confirmer la clôture").click()
    assert page.locator("#reason-erreur").inner_text() == "Saisissez le motif de la clôture."
    checker.check("cloture-sans-motif")
    page.get_by_label("Motif de la clôture (obligatoire)").fill("Fin des intempéries")
    page.get_by_role("button", name="Confirmer la clôture").click()
    assert "est close : les délais s'appliquent de nouveau." in flash(page)
    closed = page.locator(f"#periode-{current['id']}").inner_text()
    assert "close le" in closed and "Fin des intempéries" in closed
    assert not page.locator(f"#periode-{current['id']}").get_by_role("link", name="Clore").count()
    checker.check("periode-close")
    assert page.goto("/agent/assouplissements/999999/cloture").status == 404
    assert page.locator("h1").inner_text() == "Période introuvable"

    page.get_by_role("link", name="Opérations de masse", exact=True).first.click()
    page.get_by_role("button", name="Voir les sessions concernées (aperçu)").click()
    assert page.locator("#erreur-formulaire").is_visible()  # at least one status
    page.locator("label[for=statut-en_preparation]").click()
    page.get_by_label("Début à partir du").fill((date.today() + timedelta(days=160)).isoformat())
    page.get_by_label("Début jusqu'au").fill((date.today() + timedelta(days=168)).isoformat())
    page.get_by_role("button", name="Voir les sessions concernées (aperçu)").click()
    assert "Aperçu : 9 sessions concernées" in page.locator("#apercu").inner_text()
    checker.check("apercu")
    before = platform.seeder.call("GET", "/sessions?status=annulee&per_page=1", platform.seeder.ud)["total"]
    assert before <= 1  # the dry run changed nothing
    page.get_by_label("Opération").select_option("annuler")
    page.get_by_label("Motif (obligatoire)").fill("Confinement régional")
    page.get_by_role("button", name="Appliquer aux 9 sessions").click()
    page.wait_for_url("**/agent/operations-masse/*")
    assert page.locator("#barre").is_visible()
    checker.check("progression")
    wait_for(lambda: page.reload() and "terminée" in page.locator("#etat").inner_text(), timeout=30,
             what="the mass operation")
    assert "9 sessions traitées" in page.locator("#etat").inner_text()
    assert "Progression : 100 %" in page.locator("#progression").inner_text()
    after = platform.seeder.call("GET", "/sessions?status=annulee&per_page=1", platform.seeder.ud)["total"]
    assert after == before + 9
    checker.check("terminee")
