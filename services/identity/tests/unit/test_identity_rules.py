"""Identity's rules (I1, I2, I4, E3), with no server: activation codes, the password policy and hashes, the
sign-up bot check, sealed codes, a centre's département."""
from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidTag

from ceres_identity.domain import botcheck, codes, geography, passwords, secrets_box

SECRET = "x" * 40


def test_E3_I2_activation_codes_readable_and_typed_in_any_form():
    code = codes.new_code()
    assert len(code) == 12 and set(code) <= set(codes.ALPHABET)
    assert not set(codes.ALPHABET) & set("01OIL")  # no look-alikes on a letter
    assert codes.display("ABCDEFGHJKMN") == "ABCD-EFGH-JKMN"
    assert codes.normalize(" abcd-efgh\tjkmn ") == "ABCDEFGHJKMN"
    assert codes.normalize(codes.display(code)) == code


def test_I1_password_policy_in_french():
    assert passwords.policy_errors("Tournesol-Bleu-42") == []
    assert passwords.policy_errors("Court1!") == ["Le mot de passe doit contenir au moins 12 caractères."]
    assert passwords.policy_errors("toutenminuscules") == [
        "Le mot de passe doit mêler au moins trois types de caractères parmi : minuscules, majuscules, chiffres, "
        "caractères spéciaux."]
    assert "Ce mot de passe est trop courant." in passwords.policy_errors("Motdepasse123")
    assert passwords.policy_errors("A1!" + "b" * 130) == ["Le mot de passe doit contenir au plus 128 caractères."]
    personal = "Le mot de passe ne doit pas contenir votre nom ni votre adresse électronique."
    assert passwords.policy_errors("Durand-2024-ok!", nom="Durand") == [personal]
    assert passwords.policy_errors("Xmarie.curie99!", email="marie.curie@example.org") == [personal]
    assert passwords.policy_errors("Bob-est-la-2024", nom="Bob") == []  # names under 4 letters are not searched


def test_I1_passwords_hashed_with_argon2id_and_verified():
    hasher = passwords.Passwords(time_cost=1, memory_kib=8, parallelism=1)
    stored = hasher.hash("Tournesol-Bleu-42")
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, "Tournesol-Bleu-42")
    assert not hasher.verify(stored, "Tournesol-Bleu-43")
    assert not hasher.verify(None, "decoy password, never matches")  # no account: never true
    assert not hasher.verify("not a hash", "Tournesol-Bleu-42")
    assert passwords.Passwords(time_cost=2, memory_kib=8, parallelism=1).needs_rehash(stored)


def test_I1_bot_check_ticket_time_trap_and_proof_of_work():
    ticket = botcheck.issue_ticket(SECRET, bits=8, now=1_000.0)
    nonce = botcheck.solve(ticket, 8)
    assert botcheck.check(SECRET, ticket, nonce, min_seconds=3, max_seconds=3600, now=1_010.0) is None
    assert botcheck.check(SECRET, ticket, nonce, min_seconds=3, max_seconds=3600, now=1_001.0) == \
        "Formulaire envoyé trop vite : veuillez réessayer."
    assert botcheck.check(SECRET, ticket, nonce, min_seconds=3, max_seconds=3600, now=4_601.0) == \
        "Le formulaire a expiré : veuillez recharger la page."
    invalid = "Vérification anti-robot invalide."
    assert botcheck.check("y" * 40, ticket, nonce, min_seconds=3, max_seconds=3600, now=1_010.0) == invalid
    assert botcheck.check(SECRET, "garbage", nonce, min_seconds=3, max_seconds=3600, now=1_010.0) == invalid
    forged = ticket.replace(".8.", ".0.", 1)  # fewer bits asked: the signature no longer matches
    assert botcheck.check(SECRET, forged, "0", min_seconds=3, max_seconds=3600, now=1_010.0) == invalid
    unsolved = next(str(n) for n in range(1000) if botcheck.leading_zero_bits(
        hashlib.sha256(f"{ticket}:{n}".encode()).digest()) < 8)
    assert botcheck.check(SECRET, ticket, unsolved, min_seconds=3, max_seconds=3600, now=1_010.0) == invalid


def test_leading_zero_bits():
    assert botcheck.leading_zero_bits(b"\x00\x00\xff") == 16
    assert botcheck.leading_zero_bits(b"\x0f\xff") == 4
    assert botcheck.leading_zero_bits(b"\x80") == 0


def test_I2_a_sealed_code_opens_only_for_its_siret_and_key():
    box = secrets_box.CodeBox(SECRET)
    sealed = box.seal("ABCDEFGHJKMN", "73282932000074")
    assert b"ABCDEFGHJKMN" not in sealed
    assert box.open(sealed, "73282932000074") == "ABCDEFGHJKMN"
    with pytest.raises(InvalidTag):
        box.open(sealed, "35600000048315")  # moved to another centre
    with pytest.raises(InvalidTag):
        secrets_box.CodeBox("z" * 40).open(sealed, "73282932000074")
    token = secrets_box.new_token()
    assert len(token) >= 43 and secrets_box.token_hash(token) != token and len(secrets_box.token_hash(token)) == 64


@pytest.mark.parametrize("commune,departement", [
    ("01053", "01"), ("2A004", "2A"), ("2B033", "2B"), ("97411", "974"), ("97608", "976"), ("75", None),
    ("", None), (None, None)])
def test_I4_a_centres_departement_from_its_commune(commune, departement):
    assert geography.departement_of(commune) == departement
    if departement:
        assert geography.region_of(departement) == {"01": "84", "2A": "94", "2B": "94", "974": "04",
                                                    "976": "06"}[departement]
