"""Password strength, checked at registration (the DTO already bounds the length to 8..128).

Refused: whitespace only, fewer than MIN_DISTINCT_CHARACTERS different characters,
any password of `common_passwords.txt` (case-insensitive), and passwords too close
to the e-mail address or the display name.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
MIN_DISTINCT_CHARACTERS = 4
# As Django's UserAttributeSimilarityValidator: 0.7 of the characters in common is too close.
MAX_SIMILARITY = 0.7


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines if line.strip() and not line.startswith("#"))


def _personal_parts(email: str, display_name: str | None) -> list[str]:
    local, _, domain = email.partition("@")
    parts = [email, local, domain.split(".")[0]]
    parts += re.split(r"[\W_]+", local)
    if display_name:
        name = display_name.casefold()
        parts += [name, *re.split(r"[\W_]+", name)]
    return [part for part in parts if len(part) >= 3]


def password_weakness(password: str, *, email: str, display_name: str | None = None) -> str | None:
    """Why `password` is too weak, as a message for the user, or None when it is acceptable."""
    if not password.strip():
        return "The password may not be only spaces"
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return f"The password needs at least {MIN_DISTINCT_CHARACTERS} different characters"
    folded = password.casefold()
    if folded.strip() in common_passwords():
        return "This password is one of the most common ones; choose another"
    for part in _personal_parts(email.casefold(), display_name):
        matcher = SequenceMatcher(a=folded, b=part)
        if matcher.quick_ratio() >= MAX_SIMILARITY and matcher.ratio() >= MAX_SIMILARITY:
            return "The password is too similar to your e-mail address or name"
    return None
