"""Activation codes (E3, I2): random, easy to read on a letter and to type, with no look-alike characters."""
from __future__ import annotations

import secrets

# No 0/O, 1/I/L: a code copied from paper is typed right the first time.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 12  # 31^12 ≈ 7.9e17 possibilities; with the attempt limits, guessing is hopeless


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(typed: str) -> str:
    """What the user typed, as stored: case, spaces and dashes do not matter."""
    return "".join(ch for ch in typed.upper() if ch not in " -\t")


def display(code: str) -> str:
    """ABCD-EFGH-JKMN: groups of four, as printed on the letter."""
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))
