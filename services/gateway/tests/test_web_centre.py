"""The centres' journeys in Debian's Chromium, against the whole platform (five services on PostgreSQL and
RabbitMQ, the gateway in front): the portal account of seed 003 (I1–I3) with the mails read from identity's mail
drop, and a session from creation to results (S1–S8, C1). Each page: no console error, axe-core, a screenshot."""
from __future__ import annotations

import email
import email.policy
import re
import sys
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

sys.path.insert(0, str(Path(__file__).parent))
from test_web_journeys import browser, web  # noqa: E402,F401  (fixtures: Chromium, a fresh context per test)
from webplatform import demo_login, menu_labels, start_full_platform, wait_for  # noqa: E402

PARIS = ZoneInfo("Europe/Paris")
PASSWORD = "Un-Mot2passe-solide"
SIRET_LYON = "41822976100014"  # a demo centre (CFA, Lyon) with no account yet
SIGNUP_MIN_SECONDS = 3.0  # identity's time trap, as in production: a person takes longer to fill the form


def fill_person(page, genre: str, nom: str, prenoms: str, born: str, birth_commune: str | None = None):
    """The centre's new-candidate form: genre, nom de naissance, prénoms, birth date and, for a birth in France, the
    birth commune as typed. Returns the form, for the fields a test adds."""
    form = page.locator("#nouveau-candidat")
    form.get_by_label("Genre").select_option(genre)
    form.get_by_label("Nom de naissance").fill(nom)
    form.get_by_label("Prénoms").fill(prenoms)
    form.get_by_label("Date de naissance").fill(born)
    if birth_commune is not None:
        form.get_by_label("Commune de naissance").fill(birth_commune)
    return form


@pytest.fixture(scope="module")
def platform(infra, amqp_url, issuer):
    started, close = start_full_platform(infra, amqp_url, issuer)
    identity = started.runtimes["identity"].identity
    # The mails' links point at this gateway; a small proof of work and a short time trap (tests only).
    identity.config = replace(identity.config, public_url=f"{started.url}/api/identity", pow_bits=8,
                              signup_min_seconds=SIGNUP_MIN_SECONDS)
    started.sent_before = set(identity.config.mail_dir.glob("*.eml"))
    yield started
    close()


# --- helpers -------------------------------------------------------------------------------------------------------
def last_mail(platform, address: str, subject: str):
    """The mail identity's sender dropped for `address` (embedded transport: one .eml file per mail)."""
    folder = platform.runtimes["identity"].identity.config.mail_dir

    def found():
        for path in sorted(set(folder.glob("*.eml")) - platform.sent_before, key=lambda p: p.stat().st_mtime,
                           reverse=True):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message["To"] == address and message["Subject"] == subject:
                return message
        return None

    return wait_for(found, timeout=15, what=f"the mail « {subject} » to {address}")


def link_in(message) -> str:
    return re.search(r"https?://\S+", message.get_content()).group(0)


def activation_code(platform, siret: str) -> str:
    """What the DREETS agent reads on the activation letter (E3, I2)."""
    from ceres_identity.models import Centre
    from ceres_identity.service_layer.centres import show_code
    from ceres_shared.auth import Principal

    runtime = platform.runtimes["identity"]
    wait_for(lambda: _known(runtime, Centre, siret), what="identity's copy of the centre")
    agent = Principal(subject="test-dreets", role="dreets", regions=frozenset({"84"}))
    with runtime.session_factory() as session:
        return show_code(runtime, session, agent, siret)["code"]


def _known(runtime, model, key) -> bool:
    with runtime.session_factory() as session:
        return session.get(model, key) is not None


def portal_account(platform, address: str, nom: str, prenom: str) -> None:
    """A colleague's account made through the API as a script would (sign-up, mailed link, activation)."""
    from ceres_gateway.web.centre_account import solve_proof_of_work

    api = f"{platform.url}/api/identity"
    challenge = requests.get(f"{api}/accounts/signup-challenge", timeout=10).json()
    time.sleep(challenge["min_seconds"])
    body = {"email": address, "password": PASSWORD, "password_confirmation": PASSWORD, "civilite": "Mme",
            "nom": nom, "prenom": prenom, "telephone": "04 72 00 00 00", "ticket": challenge["ticket"],
            "pow_nonce": solve_proof_of_work(challenge["ticket"], challenge["pow_bits"])}
    assert requests.post(f"{api}/accounts", json=body, timeout=10).status_code == 202
    token = link_in(last_mail(platform, address, "Demande de création de votre compte CERES")).split("token=")[1]
    assert requests.post(f"{api}/accounts/activate", json={"token": token}, timeout=10).status_code == 200


def log_in(page, address: str) -> None:
    page.goto("/connexion")
    page.get_by_label("Adresse électronique").fill(address)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter", exact=True).click()


def log_out(page) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/connexion")


def fill_signup(page, password_confirmation: str = PASSWORD) -> None:
    page.get_by_label("Civilité").select_option("M")
    page.locator("#nom").fill("Dupont")
    page.get_by_label("Prénom").fill("Guy")
    page.get_by_label("Téléphone").fill("04 78 00 00 00")
    page.get_by_label("Adresse électronique").fill("guy.dupont@institut-lyonnais.fr")
    page.locator("#password").fill(PASSWORD)
    page.get_by_label("Confirmation du mot de passe").fill(password_confirmation)


def flash(page) -> str:
    return page.locator(".fr-alert--success").first.inner_text()


# --- I1–I3 --------------------------------------------------------------------------------------------------------
def test_portal_account_signup_activation_attach_invitation_i1_i2_i3(web, platform):
    page, checker = web
    code = activation_code(platform, SIRET_LYON)
    portal_account(platform, "helene.martin@institut-lyonnais.fr", "Martin", "Hélène")  # the colleague, active

    # I1: sign-up from the log-in page; identity's time trap, then its password rules, each shown in French.
    page.goto("/connexion")
    page.get_by_role("link", name="Créer un compte").click()
    assert page.locator("h1").inner_text() == "Créer votre compte CERES"
    assert page.locator("#website").is_hidden()  # the honeypot: no person sees it
    checker.check("inscription")
    page.reload()  # a fresh ticket, then a form sent faster than a person could
    fill_signup(page)
    page.get_by_role("button", name="Créer mon compte").click()
    assert "Formulaire envoyé trop vite" in page.locator("#erreur-formulaire").inner_text()
    assert page.get_by_label("Prénom").input_value() == "Guy"  # what was typed stays (not the passwords)
    checker.check("trop-vite")
    page.wait_for_timeout(SIGNUP_MIN_SECONDS * 1000 + 200)
    fill_signup(page, password_confirmation="Un-autre-Mot2passe")
    page.get_by_role("button", name="Créer mon compte").click()
    assert page.locator("#password_confirmation-erreur").inner_text() == "Les deux mots de passe ne sont pas identiques."
    checker.check("mots-de-passe-differents")
    page.wait_for_timeout(SIGNUP_MIN_SECONDS * 1000 + 200)
    fill_signup(page)
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url("**/inscription/courriel-envoye")
    assert page.locator("h1").inner_text() == "Un e-mail vous a été envoyé"
    assert "guy.dupont@institut-lyonnais.fr" in page.locator("#courriel-envoye").inner_text()
    checker.check("courriel-envoye")

    # The mailed link opens the DSFR page; only its button activates (a mail scanner opening it changes nothing).
    mail = last_mail(platform, "guy.dupont@institut-lyonnais.fr", "Demande de création de votre compte CERES")
    assert "Bonjour Guy Dupont" in mail.get_content()
    link = link_in(mail)
    assert link.startswith(f"{platform.url}/api/identity/accounts/activate?token=")
    log_in(page, "guy.dupont@institut-lyonnais.fr")
    assert "pas encore activé" in page.locator("#erreur-formulaire").inner_text()
    page.goto(link)
    assert page.locator("h1").inner_text() == "Activation de votre compte"
    checker.check("activation")
    page.get_by_role("button", name="Activer mon compte").click()
    page.wait_for_url("**/connexion")
    assert "Votre compte est activé" in flash(page)
    page.goto(link)  # the link works once
    page.get_by_role("button", name="Activer mon compte").click()
    assert page.locator("#erreur-formulaire").inner_text().strip() == "Ce lien a déjà été utilisé."
    checker.check("lien-deja-utilise")

    # I2: log in, attach CERES with SIRET + activation code; the first user becomes gestionnaire.
    log_in(page, "guy.dupont@institut-lyonnais.fr")
    page.wait_for_url("**/tableau-de-bord")
    assert "Mon centre" in menu_labels(page) and "Sessions du centre" in menu_labels(page)
    page.get_by_role("link", name="Mon centre").first.click()
    assert page.locator("#aucun-centre").is_visible()
    checker.check("aucun-centre")
    page.get_by_role("link", name="Rattacher un centre").click()
    page.get_by_label("SIRET du centre").fill(SIRET_LYON)
    page.get_by_label("Code d'activation").fill("AAAA-BBBB-CCCC")
    page.get_by_role("button", name="Rattacher").click()
    assert "Le SIRET ou le code d'activation est incorrect." in page.locator("#erreur-formulaire").inner_text()
    assert page.locator("#code-erreur").inner_text() == "Code d'activation incorrect pour ce SIRET."
    checker.check("code-incorrect")
    page.get_by_label("Code d'activation").fill(code)
    page.get_by_role("button", name="Rattacher").click()
    page.wait_for_url("**/centre")
    assert "avec le rôle Gestionnaire CENTRES" in flash(page)
    section = page.locator(f"#centre-{SIRET_LYON}")
    assert section.locator(".ceres-role").inner_text() == "Gestionnaire CENTRES"
    assert section.locator(f"#membres-{SIRET_LYON} tbody tr").count() == 1
    checker.check("gestionnaire")

    # I3: invite the colleague found by name (3 characters at least), as « Centre agréé », for this SIRET.
    page.get_by_role("link", name="Inviter un collaborateur").click()
    page.get_by_label("Rechercher un compte par son nom").fill("ma")
    page.get_by_role("button", name="Rechercher").click()
    assert page.locator("#q-erreur").inner_text() == "Saisissez au moins 3 caractères."
    checker.check("recherche-trop-courte")
    page.get_by_label("Rechercher un compte par son nom").fill("mart")
    page.get_by_role("button", name="Rechercher").click()
    page.locator("label.fr-label", has_text="Hélène Martin").click()
    page.get_by_role("button", name="Envoyer l'invitation").click()
    assert page.locator("#role-erreur").inner_text() == "Choisissez le rôle du collaborateur."
    checker.check("invitation-incomplete")
    page.locator("label.fr-label", has_text="Hélène Martin").click()
    page.get_by_label("Rôle").select_option(label="Centre agréé")
    page.get_by_label("Centre (SIRET de votre entreprise)").select_option(SIRET_LYON)
    page.get_by_role("button", name="Envoyer l'invitation").click()
    page.wait_for_url("**/centre")
    assert "L'invitation est envoyée à helene.martin@institut-lyonnais.fr (rôle Centre agréé" in flash(page)
    assert "en attente" in page.locator(f"#invitations-{SIRET_LYON}").inner_text()
    checker.check("invitation-envoyee")
    log_out(page)

    # The invitee opens the mailed link, logs in, lands on the invitation and accepts it.
    invitation = last_mail(platform, "helene.martin@institut-lyonnais.fr", "Invitation à rejoindre la démarche CERES")
    assert "avec le rôle « Centre agréé »" in invitation.get_content()
    page.goto(link_in(invitation))
    page.wait_for_url("**/connexion?suivant=**")
    page.get_by_label("Adresse électronique").fill("helene.martin@institut-lyonnais.fr")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter", exact=True).click()
    page.wait_for_url("**/invitations/accepter?token=*")
    checker.check("invitation")
    page.get_by_role("button", name="Accepter l'invitation").click()
    page.wait_for_url("**/centre")
    assert "Invitation acceptée" in flash(page)
    assert page.locator(f"#centre-{SIRET_LYON} .ceres-role").inner_text() == "Centre agréé"
    assert page.get_by_role("link", name="Inviter un collaborateur").count() == 0  # not a gestionnaire
    checker.check("invitee-rattachee")
    log_out(page)

    # The gestionnaire sees both members and the invitation accepted.
    log_in(page, "guy.dupont@institut-lyonnais.fr")
    page.goto("/centre")
    members = page.locator(f"#membres-{SIRET_LYON} tbody tr").all_inner_texts()
    assert len(members) == 2 and any("Hélène Martin" in m and "Centre agréé" in m for m in members)
    assert "acceptée" in page.locator(f"#invitations-{SIRET_LYON}").inner_text()
    checker.check("membres")


# --- S1–S8 --------------------------------------------------------------------------------------------------------
def make_jures(platform, count: int = 2) -> None:
    """The UD's jurés habilités for TP-00463 (the centre cannot create them; S7)."""
    from ceres_sessions.service_layer import jury
    from ceres_shared.auth import Principal

    runtime = platform.runtimes["sessions"]
    ud = Principal(subject="test-ud01", role="ud", departements=frozenset({"01"}))
    with runtime.session_factory.begin() as session:
        for n, (nom, prenom) in enumerate((("BERNARD", "Alain"), ("COLIN", "Marie"))[:count]):
            jure = jury.create_jure(session, ud, {"civilite": "M" if n == 0 else "Mme", "nom": nom, "prenom": prenom,
                                                  "email": None, "departement": "01", "region": "84",
                                                  "competences": [], "commentaires": None}, runtime)
            jury.add_habilitation(session, ud, jure, {"titre_code": "TP-00463", "valid_from": date(2020, 1, 1),
                                                      "valid_until": date(2030, 12, 31)}, runtime)


def test_centre_session_from_creation_to_results_s1_to_s8(web, platform):
    from ceres_sessions import clock

    page, checker = web
    make_jures(platform)
    demo_login(page, checker, "Centre de formation (GRETA de l'Ain)")
    page.get_by_role("link", name="Sessions du centre").first.click()
    assert page.locator("h1").inner_text() == "Sessions de mon centre"  # the demo's own sessions may be listed
    checker.check("sessions")

    # S1, S2: on the site holding a valid agrément; 08:00 shown by default; a past start refused next to its field.
    page.get_by_role("link", name="Créer une session").click()
    assert page.get_by_label("Heure de début").input_value() == "08:00"
    offers = page.locator("#offre option").all_inner_texts()
    assert any("Revermont — Bourg-en-Bresse — TP-00463" in o for o in offers)
    checker.check("formulaire")
    page.get_by_label("Site et titre").select_option(index=1)
    page.get_by_label("Date de début").fill((date.today() - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Créer la session").click()
    assert page.locator("#starts_on-erreur").inner_text() == "La date de début ne peut pas être passée."
    checker.check("date-passee")
    start = date.today() + timedelta(days=130)
    if start.day > 28:  # a day every month has, for the deadline computed below
        start += timedelta(days=4)
    page.get_by_label("Date de début").fill(start.isoformat())
    page.get_by_label("Date de fin").fill((start + timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Créer la session").click()
    page.wait_for_url("**/centre/sessions/*")
    public_id = re.search(r"TITRE_B_\d{4}_\d{6}", page.locator("h1").inner_text()).group(0)
    assert page.locator("#statut").inner_text() == "en préparation"
    assert page.locator("#debut").inner_text() == f"{start:%d/%m/%Y} à 08:00"
    dte_deadline = date(start.year - (start.month <= 3), (start.month - 4) % 12 + 1, start.day)
    assert page.locator("#dte").inner_text() == f"à faire au plus tard le {dte_deadline:%d/%m/%Y}"  # S4
    checker.check("session-creee")
    session_url = page.url
    page.get_by_role("link", name="Sessions du centre").first.click()
    row = page.locator("#sessions tbody tr", has_text=public_id).inner_text()
    assert public_id in row and "en préparation" in row.lower()
    checker.check("liste")
    page.goto(session_url)

    # C1: a person already in CERES is not created twice: the existing record is shown and enrolled instead.
    page.get_by_role("link", name="Inscrire des candidats").click()
    checker.check("candidats")
    fill_person(page, "M", "Chevalier", "Henri", "1990-03-01", "69123")
    page.get_by_role("button", name="Créer et inscrire").click()
    assert "Cette personne semble déjà enregistrée dans CERES" in page.locator("#erreur-formulaire").inner_text()
    existing = page.locator("#dossiers-existants tbody tr").first
    assert "CHEVALIER" in existing.inner_text() and "01/03/1990" in existing.inner_text()
    checker.check("doublon")
    existing.get_by_role("button").click()
    assert "est inscrit à la session" in flash(page)
    page.get_by_role("link", name="Inscrire des candidats").click()
    fill_person(page, "F", "Tessier", "Lou, Anne", "2001-05-05", "01053")
    page.get_by_role("button", name="Créer et inscrire").click()
    assert re.search(r"\(TESSIER Lou Anne\) est créé et inscrit à la session", flash(page), re.I)
    candidates = page.locator("#candidats tbody tr").all_inner_texts()
    assert len(candidates) == 2 and any("CHEVALIER" in c for c in candidates)
    checker.check("inscrits")

    # S7: the jury from the jurés habilités for the titre over the session.
    page.get_by_role("link", name="Composer le jury").click()
    # The demo's own jurés may be habilitated too: ours must be offered, whatever else is.
    offered = page.locator("#habilites tbody tr")
    assert offered.count() >= 2
    assert offered.filter(has_text="BERNARD").count() == 1 and offered.filter(has_text="COLIN").count() == 1
    checker.check("jury")
    page.get_by_role("button", name="Ajouter Alain BERNARD au jury").click()
    page.get_by_role("button", name="Ajouter Marie COLIN au jury").click()
    assert page.locator("#jury li").count() == 2
    assert page.get_by_role("button", name="Ajouter Alain BERNARD au jury").count() == 0
    checker.check("jury-complet")
    page.get_by_role("link", name="Revenir à la session").click()

    # S4: the DTE request (0 candidates allowed), after a confirmation showing the deadline; then the convocations.
    page.get_by_role("link", name="Demander le DTE").click()
    assert f"au plus tard le {dte_deadline:%d/%m/%Y}" in page.locator("#echeances").inner_text()
    assert page.get_by_label("Nombre de candidats").input_value() == "2"
    checker.check("dte")
    page.get_by_label("Nombre de candidats").fill("0")
    page.get_by_role("button", name="Confirmer la demande de DTE").click()
    assert page.locator("#statut").inner_text() == "demande de DTE envoyée"
    assert "pour 0 candidat(s)" in page.locator("#dte").inner_text()
    checker.check("dte-envoyee")
    page.get_by_role("link", name="Envoyer les convocations").click()
    checker.check("convocations")
    page.get_by_role("button", name="Confirmer l'envoi des convocations").click()
    assert page.locator("#statut").inner_text() == "convocations envoyées"
    assert "Saisissez la date réelle de fin de session" in page.locator(".ceres-alerte").first.inner_text()  # S6
    checker.check("convoquee")

    # S6 then S8: results need the real end date; the services' 409 reasons in French.
    page.get_by_role("link", name="Saisir les résultats").click()
    page.locator("label.fr-label[for$='-titre']").first.click()
    page.get_by_role("button", name="Enregistrer les résultats").click()
    page.get_by_role("button", name="Confirmer et enregistrer les résultats").click()  # S8: read back first
    assert "Saisissez la date réelle de fin de session avant de saisir les résultats." in page.locator(
        "#erreur-formulaire").inner_text()
    checker.check("resultats-sans-date-fin")
    clock.fix(datetime.combine(start + timedelta(days=1), datetime.min.time(), tzinfo=PARIS).replace(hour=18))
    try:
        page.goto(session_url)
        page.get_by_label("Date réelle de fin de session").fill((start + timedelta(days=2)).isoformat())
        page.get_by_role("button", name="Enregistrer la date réelle de fin").click()
        assert "ne peut pas être dans le futur" in page.locator("#real_end_date-erreur").inner_text()
        checker.check("date-fin-future")
        page.get_by_label("Date réelle de fin de session").fill((start + timedelta(days=1)).isoformat())
        page.get_by_role("button", name="Enregistrer la date réelle de fin").click()
        assert page.locator("#fin-reelle").inner_text() == f"{start + timedelta(days=1):%d/%m/%Y}"
        checker.check("date-fin-reelle")
        page.get_by_role("link", name="Saisir les résultats").click()
        fieldsets = page.locator("#resultats fieldset")
        chevalier = fieldsets.filter(has_text="CHEVALIER")
        tessier = fieldsets.filter(has_text=re.compile("tessier", re.I))
        chevalier.locator("label", has_text="Réussite partielle").click()
        tessier.locator("label", has_text="Titre obtenu").click()
        page.get_by_role("button", name="Enregistrer les résultats").click()
        page.get_by_role("button", name="Confirmer et enregistrer les résultats").click()
        assert "Une réussite partielle nomme les CCP obtenus." in chevalier.locator(".fr-error-text").inner_text()
        checker.check("ccp-manquants")
        chevalier.locator("label", has_text="TP-00463-CCP1").click()
        page.get_by_role("button", name="Enregistrer les résultats").click()
        page.get_by_role("button", name="Confirmer et enregistrer les résultats").click()
        assert "Les résultats sont enregistrés" in flash(page)
        assert page.locator("#statut").inner_text() == "résultats saisis"
        rows = page.locator("#candidats tbody tr").all_inner_texts()
        assert any("CHEVALIER" in r and "Réussite partielle" in r and "TP-00463-CCP1" in r for r in rows)
        assert any("TESSIER" in r.upper() and "Titre obtenu" in r and "TP-00463-CCP2" in r for r in rows)
        checker.check("resultats-saisis")
    finally:
        clock.fix(None)
