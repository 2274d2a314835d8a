"""C5/L7 and L5 in the names' domain code: an invisible character named without being shown, keys that fit."""
from __future__ import annotations


def test_c5_an_invisible_character_in_a_stored_name_is_named_without_being_shown():
    """L7: a draft kept from before the edge refused them; validating it names the problem, not « \u202e »."""
    from ceres_candidates.domain.checks import name_problem

    assert name_problem("Mar\u202etin", "Le nom de naissance", required=True) == (
        "Le nom de naissance contient des caractères invisibles ou de contrôle non autorisés.")
    assert name_problem("Martin", "Le nom de naissance", required=True) is None


def test_l5_name_keys_fit_their_columns_whatever_folding_makes_of_the_name():
    from ceres_candidates.domain import names

    long_name = "ﬃ" * 100  # 100 characters, 300 letters once folded
    assert len(names.name_key(long_name)) == names.NAME_KEY_MAX
    assert len(names.given_names_key(["ﬃ" * 60] * 6)) <= names.GIVEN_KEY_MAX
    assert len(names.dedup_key(long_name, ["ﬃ" * 60] * 6)) <= names.DEDUP_KEY_MAX
