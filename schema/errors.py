"""The one mapping from domain errors to GraphQL errors and payload errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import strawberry
from graphql import GraphQLError
from sqlalchemy.exc import DBAPIError, StatementError
from strawberry.extensions import MaskErrors

from crm.db import database_unreachable
from crm.errors import DomainError, FieldError, ValidationFailed

logger = logging.getLogger("mutual.errors")
INTERNAL_MESSAGE = "Internal server error."
T = TypeVar("T")
P = TypeVar("P")
P_co = TypeVar("P_co", covariant=True)


def camel(path: str | None) -> str | None:
    """`owner_id` -> `ownerId`; dotted paths keep their dots."""
    if path is None:
        return None
    parts = []
    for segment in path.split("."):
        head, *rest = segment.split("_")
        parts.append(head + "".join(word[:1].upper() + word[1:] for word in rest))
    return ".".join(parts)


@strawberry.type(description="A problem with one input field of a mutation.")
class UserError:
    field: str | None = strawberry.field(
        description="The input field at fault (camelCase path), or null for the "
        "whole input."
    )
    code: str = strawberry.field(
        description="Stable machine-readable code, e.g. REQUIRED, TOO_LONG, "
        "INVALID_EMAIL, DUPLICATE, CONFLICT, NOT_FOUND (see docs/errors.md)."
    )
    message: str = strawberry.field(description="Human-readable explanation.")

    @classmethod
    def from_domain(cls, error: FieldError) -> UserError:
        return cls(field=camel(error.field), code=error.code, message=error.message)


def user_errors(exc: ValidationFailed) -> list[UserError]:
    return [UserError.from_domain(e) for e in exc.errors]


async def in_savepoint(session: Any, work: Callable[[], Awaitable[T]]) -> T:
    """Run one mutation's work in a savepoint: a refused write leaves nothing behind."""
    async with session.begin_nested():
        return await work()


class Refused(Protocol[P_co]):
    """Builds a mutation's payload from its errors (a payload class fits)."""

    def __call__(self, *, errors: list[UserError]) -> P_co: ...


async def attempt(
    session: Any,
    work: Callable[[], Awaitable[T]],
    ok: Callable[[T], P],
    failed: Refused[P],
) -> P:
    """Run work in a savepoint: `ok(result)`, or `failed(errors=...)` if refused."""
    try:
        result = await in_savepoint(session, work)
    except ValidationFailed as exc:
        return failed(errors=user_errors(exc))
    return ok(result)


# Errors raised by graphql-core or strawberry without a code, recognised by message.
_MESSAGE_CODES = (
    ("Syntax Error: Document contains more than", "TOO_MANY_TOKENS"),
    ("Syntax Error", "GRAPHQL_PARSE_FAILED"),
)
UNREACHABLE = "The database cannot be reached right now; try again shortly."
BAD_VALUE = (
    "A value in the request cannot be stored or compared (out of range, or holding "
    "a character such as NUL that text fields cannot hold)."
)


def is_bad_value(exc: BaseException) -> bool:
    """Whether the database or its driver refused a value the client sent.

    A safety net: services should refuse such values first, naming the field.
    Python-side conversions (a date that overflows once moved to UTC) fail with
    ValueError/OverflowError; PostgreSQL reports SQLSTATE class 22 (data
    exception: NUL in text, numeric overflow); asyncpg refuses some values before
    sending them with its DataError, a ValueError.
    """
    if not isinstance(exc, StatementError):
        return False
    original = exc.orig
    if not isinstance(exc, DBAPIError):
        return isinstance(original, ValueError | OverflowError)
    sqlstate = getattr(original, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate.startswith("22"):
        return True
    return isinstance(getattr(original, "__cause__", None), ValueError)


def _code_of(error: GraphQLError) -> tuple[str, str | None] | None:
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code, camel(original.field)
    if original is None:
        existing = (error.extensions or {}).get("code")
        if existing:
            return str(existing), None
        for prefix, code in _MESSAGE_CODES:
            if error.message.startswith(prefix):
                return code, None
        return "GRAPHQL_VALIDATION_FAILED", None
    if isinstance(original, GraphQLError):
        return _code_of(original)
    return None


def with_codes(errors: list[GraphQLError]) -> list[GraphQLError]:
    """The errors, each with a stable `extensions.code`; unexpected ones masked and
    logged. Idempotent: errors that already carry a code pass through unchanged."""
    processed = []
    for error in errors:
        original = error.original_error
        if original is not None and database_unreachable(original):
            logger.error("database unreachable in %s: %s", error.path, original)
            processed.append(
                GraphQLError(
                    UNREACHABLE,
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    extensions={"code": "DATABASE_UNAVAILABLE"},
                )
            )
            continue
        if original is not None and is_bad_value(original):
            logger.warning("refused value in %s: %s", error.path, original)
            processed.append(
                GraphQLError(
                    BAD_VALUE,
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    extensions={"code": "BAD_USER_INPUT"},
                )
            )
            continue
        found = _code_of(error)
        if found is None:
            logger.error("unexpected error in %s", error.path, exc_info=original)
            processed.append(
                GraphQLError(
                    INTERNAL_MESSAGE,
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    extensions={"code": "INTERNAL_SERVER_ERROR"},
                )
            )
            continue
        code, field = found
        if (error.extensions or {}).get("code") == code and field is None:
            processed.append(error)
            continue
        extensions = dict(error.extensions or {})
        extensions["code"] = code
        if field:
            extensions["field"] = field
        message = (
            original.message if isinstance(original, DomainError) else error.message
        )
        processed.append(
            GraphQLError(
                message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions=extensions,
            )
        )
    return processed


class ErrorCodes(MaskErrors):
    """Give every error a stable `extensions.code`; mask and log unexpected ones."""

    def __init__(self) -> None:
        super().__init__(error_message=INTERNAL_MESSAGE)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return with_codes(errors)

    def _process_result(self, result: object) -> None:
        # MaskErrors checks a runtime Protocol here, slowly, on every operation.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = with_codes(errors)  # type: ignore[attr-defined]
