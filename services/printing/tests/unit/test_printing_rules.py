"""Printing's rules (P1, P3–P8, B3), with no server."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from ceres_printing.domain import reference
from ceres_printing.domain.rules import (
    CERES_NUMBER, DOCUMENTS_BY_DECISION, RuleViolation, check_original_date, check_print_request,
    check_status_change, new_document_number, normalize_original_number, route,
)

NOW = datetime(2022, 11, 29, 9, 0, tzinfo=timezone.utc)


def refusal(call, *args, **kwargs) -> tuple[str, str]:
    with pytest.raises(RuleViolation) as caught:
        call(*args, **kwargs)
    return caught.value.code, caught.value.message


def request(kind, *, has_documents=True, verified_at=None, last_request_at=None, now=NOW):
    return check_print_request(kind, has_documents=has_documents, verified_at=verified_at,
                               last_request_at=last_request_at, now=now)


def test_P3_P4_the_initial_request_needs_the_check_and_is_made_once():
    assert request("initial", verified_at=NOW - timedelta(minutes=1)) is None
    assert refusal(request, "initial") == ("not_verified", "Cochez d'abord « Données vérifiées et conformes ».")
    assert refusal(request, "initial", verified_at=NOW, last_request_at=NOW - timedelta(days=30)) == (
        "already_requested", "La demande d'impression initiale a déjà été transmise ; demandez un duplicata.")
    assert refusal(request, "initial", has_documents=False, verified_at=NOW) == (
        "no_documents", "Ce candidat n'a aucun document à imprimer (absent).")


def test_P5_a_duplicata_seven_days_after_the_last_request_and_verified_again():
    last = datetime(2022, 11, 22, 9, 30, tzinfo=timezone.utc)
    again = last + timedelta(days=7, minutes=1)
    assert request("duplicata", verified_at=again, last_request_at=last, now=last + timedelta(days=7)) is None
    assert refusal(request, "duplicata", verified_at=again, last_request_at=last,
                   now=last + timedelta(days=7) - timedelta(seconds=1)) == (
        "duplicata_too_early",
        "Un duplicata ne peut être demandé que 7 jours après la dernière demande, soit à partir du 29/11/2022 à 09:30.")
    for verified in (None, last, last - timedelta(days=1)):  # the check must come after the last request
        assert refusal(request, "duplicata", verified_at=verified, last_request_at=last, now=again) == (
            "not_verified_again", "Vérifiez à nouveau les données (« Données vérifiées et conformes ») avant de "
                                  "demander un duplicata.")
    assert refusal(request, "duplicata", verified_at=NOW) == (
        "no_initial_request", "Aucune demande initiale : envoyez d'abord pour impression.")
    assert refusal(request, "duplicata", has_documents=False, last_request_at=last, verified_at=again)[0] == \
        "no_documents"


def test_P1_documents_of_each_jury_decision():
    assert DOCUMENTS_BY_DECISION == {"titre": ("diplome", "lettre_diplome"), "partiel": ("livret", "lettre_livret"),
                                     "ajourne": ("notification_echec",), "absent": ()}


@pytest.mark.parametrize("kind,prefix", [("diplome", "D"), ("livret", "L"), ("lettre_diplome", "C"),
                                         ("notification_echec", "N")])
def test_P8_numbers_have_the_ceres_shape_and_no_look_alike_characters(kind, prefix):
    numbers = {new_document_number(kind, 2022) for _ in range(200)}
    assert len(numbers) == 200  # random: nothing to enumerate (B1)
    for number in numbers:
        assert number.startswith(f"{prefix}2022-") and len(number) == 15
        assert CERES_NUMBER.fullmatch(number)
        assert not set(number[6:]) & set("01OI")


def test_P8_original_numbers_kept_as_printed():
    assert normalize_original_number("  ab-12/34.5 ") == "AB-12/34.5"
    assert normalize_original_number("1234") == "1234"
    shape = ("Numéro d'origine invalide : de 4 à 24 caractères, lettres et chiffres, séparés au besoin par un tiret, "
             "une barre oblique ou un point, avec au moins un chiffre.")
    for bad in ("12", "ABCDEF", "AB--12", "-AB12", "AB 12", "A" * 20 + "12345", "AB12-"):
        assert refusal(normalize_original_number, bad) == ("bad_original_number", shape), bad
    code, message = refusal(normalize_original_number, "d2022-7kq4-m9xz")
    assert code == "ceres_number" and message.endswith("se réimprime par un duplicata (P5).")


def test_P8_original_date_after_the_arrete_and_not_in_the_future():
    arrete, today = date(2018, 9, 20), date(2024, 5, 2)
    assert check_original_date(arrete, titre_version=arrete, today=today) is None
    assert check_original_date(today, titre_version=arrete, today=today) is None
    assert refusal(check_original_date, date(2024, 5, 3), titre_version=arrete, today=today) == (
        "future_date", "La date du diplôme d'origine ne peut pas être dans le futur.")
    assert refusal(check_original_date, date(2018, 9, 19), titre_version=arrete, today=today) == (
        "before_arrete", "La date du diplôme d'origine précède l'arrêté du titre (20/09/2018).")


def test_P6_mainland_to_the_candidate_overseas_to_its_deets():
    assert route("metro", "69") == ("candidat", None)
    assert route(None, "2A") == ("candidat", None)
    channel, deets = route("drom", "974")
    assert channel == "deets" and deets["addressee"] == "DEETS de La Réunion — Service certification"
    assert route(None, "971")[1]["commune_label"] == "Basse-Terre"  # the code alone says overseas
    assert route("com", "975") == ("candidat", None)  # no DEETS address known: posted to the candidate


def test_B3_a_fate_only_moves_forward():
    assert check_status_change("requested", "printed") is True
    assert check_status_change("printed", "pnd") is True
    assert check_status_change("posted", "posted") is False  # a repeat: idempotent
    assert check_status_change("posted", "printed") is False  # a late report of an earlier step
    assert refusal(check_status_change, "delivered", "pnd") == (
        "final_status", "Ce pli est déjà signalé « distribué » : statut « pli non distribuable » refusé.")
    assert refusal(check_status_change, "pnd", "delivered")[0] == "final_status"


def test_P10_where_documents_are_established_and_the_departement_of_a_commune():
    assert reference.region_seat("84") == ("Lyon", "Auvergne-Rhône-Alpes")
    assert reference.region_seat(None) == ("Paris", "Île-de-France")
    assert reference.region_seat("99") == ("Paris", "Île-de-France")
    assert [reference.departement_of_commune(c) for c in ("01053", "2A004", "97411")] == ["01", "2A", "974"]
    assert reference.DROM_REGIONS["974"] == "04" and "69" not in reference.DROM_REGIONS
