"""Passwords (I1): argon2id hashes and the policy a new password must meet."""
from __future__ import annotations

import re

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 128
# Too common to be accepted whatever their length (first entries of the public breach lists).
COMMON = frozenset({"motdepasse123", "motdepasse1234", "azertyuiop123", "123456789012", "password1234",
                    "azertyuiopqs", "qwertyuiop123", "soleil123456", "bonjour12345"})


def policy_errors(password: str, *, email: str = "", nom: str = "", prenom: str = "") -> list[str]:
    """French reasons why a password is refused; empty when it is acceptable."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"Le mot de passe doit contenir au moins {MIN_LENGTH} caractères.")
    if len(password) > MAX_LENGTH:
        problems.append(f"Le mot de passe doit contenir au plus {MAX_LENGTH} caractères.")
    classes = sum(bool(re.search(p, password)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]"))
    if classes < 3:
        problems.append("Le mot de passe doit mêler au moins trois types de caractères parmi : minuscules, "
                        "majuscules, chiffres, caractères spéciaux.")
    lowered = password.lower()
    if lowered in COMMON:
        problems.append("Ce mot de passe est trop courant.")
    personal = [email.split("@")[0].lower(), nom.lower(), prenom.lower()]
    if any(len(word) >= 4 and word in lowered for word in personal):
        problems.append("Le mot de passe ne doit pas contenir votre nom ni votre adresse électronique.")
    return problems


class Passwords:
    def __init__(self, time_cost: int, memory_kib: int, parallelism: int):
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism,
                                      type=Type.ID)
        # Verified against when the account does not exist, so both answers take the same time.
        self._decoy = self._hasher.hash("decoy password, never matches")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._decoy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)
