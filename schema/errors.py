"""The one mapping from domain errors to GraphQL errors and payload errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from crm.errors import DomainError, FieldError, ValidationFailed

logger = logging.getLogger("mutual.errors")
T = TypeVar("T")


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
        description="The input field at fault (camelCase path), or null for the whole input."
    )
    code: str = strawberry.field(
        description="Stable machine-readable code, e.g. REQUIRED, TOO_LONG, INVALID_EMAIL, "
        "DUPLICATE, CONFLICT, NOT_FOUND (see docs/errors.md)."
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


def _code_of(error: GraphQLError) -> tuple[str, str | None] | None:
    original = error.original_error
    if isinstance(original, DomainError):
        return original.code, camel(original.field)
    if original is None:
        existing = (error.extensions or {}).get("code")
        if existing:
            return str(existing), None
        if error.message.startswith("Syntax Error"):
            return "GRAPHQL_PARSE_FAILED", None
        return "GRAPHQL_VALIDATION_FAILED", None
    if isinstance(original, GraphQLError):
        return _code_of(original)
    return None


class ErrorCodes(MaskErrors):
    """Give every error a stable `extensions.code`; mask and log unexpected ones."""

    def __init__(self) -> None:
        super().__init__(error_message="Internal server error.")

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = []
        for error in errors:
            found = _code_of(error)
            if found is None:
                logger.error(
                    "unexpected error in %s", error.path, exc_info=error.original_error
                )
                masked = self.anonymise_error(error)
                masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
                processed.append(masked)
                continue
            code, field = found
            extensions = dict(error.extensions or {})
            extensions["code"] = code
            if field:
                extensions["field"] = field
            processed.append(
                GraphQLError(
                    error.message
                    if not isinstance(error.original_error, DomainError)
                    else error.original_error.message,
                    nodes=error.nodes,
                    source=error.source,
                    positions=error.positions,
                    path=error.path,
                    extensions=extensions,
                )
            )
        return processed
