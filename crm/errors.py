"""Domain errors: every one carries a stable code that the API layer exposes."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Unauthenticated(DomainError):
    code = "UNAUTHENTICATED"


class Forbidden(DomainError):
    code = "FORBIDDEN"


class NotFound(DomainError):
    code = "NOT_FOUND"


class BadInput(DomainError):
    """The request itself is malformed (a bad ID, cursor, page size or filter)."""

    code = "BAD_USER_INPUT"


class Conflict(DomainError):
    code = "CONFLICT"


class RateLimited(DomainError):
    code = "RATE_LIMITED"


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field; `field` is the domain (snake_case) path."""

    field: str | None
    code: str
    message: str


class ValidationFailed(DomainError):
    """The input was well-formed but its values break the rules: one entry per field."""

    code = "INVALID"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors
