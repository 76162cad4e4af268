"""Auth request and response bodies (mirrored to frontend/src/types/auth.ts)."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

# Control, format (bidi overrides, zero-width), surrogate, private-use, unassigned and
# line/paragraph separator characters: invisible or misleading in an address.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def normalize_email(value: object) -> object:
    """NFKC + case folding (look-alike forms become one address); invisible characters refused."""
    if not isinstance(value, str):
        return value  # pydantic reports the wrong type
    value = unicodedata.normalize("NFKC", value).strip()
    for char in value:
        if unicodedata.category(char) in _REFUSED_CATEGORIES or char.isspace():
            raise PydanticCustomError(
                "email_characters",
                "The e-mail address contains a control, invisible or direction-changing character (U+{code})",
                {"code": f"{ord(char):04X}"},
            )
    return unicodedata.normalize("NFKC", value.casefold())


class RegisterRequest(BaseModel):
    """The e-mail is normalised (NFKC, case-folded); the password's strength is checked by the service."""

    email: str = Field(min_length=3, max_length=254, pattern=EMAIL_PATTERN)
    password: str = Field(min_length=8, max_length=128)
    display_name: str | None = Field(default=None, max_length=100)

    @field_validator("email", mode="before")
    @classmethod
    def normalize(cls, value: object) -> object:
        return normalize_email(value)


class LoginRequest(BaseModel):
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=128)

    @field_validator("email", mode="before")
    @classmethod
    def normalize(cls, value: object) -> object:
        return normalize_email(value)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class LogoutRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=4096)


class UserResponse(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    display_name: str | None
    created_at: datetime


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class AuthResponse(TokenPair):
    user: UserResponse
