"""The one schema extension: documents checked once per text, coded errors, and one
transaction per operation.

One extension rather than one per concern: strawberry builds every extension and
wraps each of its hooks on every request, which cost more than the work they did.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLSchema, ValidationRule, parse
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.schema.schema import validate_document
from strawberry.types.graphql import OperationType

from crm.db import connection_lost
from schema.errors import ErrorCodes

logger = logging.getLogger("mutual.db")

Checked = tuple[DocumentNode, tuple[GraphQLError, ...]]


class Documents:
    """Parsed and validated documents by their text, least recently used dropped
    past `maxsize`: a repeated document is neither parsed, nor validated, nor
    measured against the limits (schema/limits.py) again.

    A document that does not parse is not kept (nor is it kept out: it is simply
    parsed again), so unique bad documents cannot fill the cache either.
    """

    def __init__(
        self,
        *,
        rules: tuple[type[ValidationRule], ...],
        max_tokens: int,
        maxsize: int = 256,
    ) -> None:
        self.rules = rules
        self.max_tokens = max_tokens
        self.checked = functools.lru_cache(maxsize=maxsize)(self._check)

    def _check(self, schema: GraphQLSchema, text: str, rules: Any) -> Checked:
        document = parse(text, max_tokens=self.max_tokens)
        return document, tuple(validate_document(schema, document, rules + self.rules))


class MutualOperation(ErrorCodes):
    """Around every operation:

    - parse and validate its document through `Documents` (a document that does
      not parse is left to strawberry's own parse step, with the token limit, so
      that the error comes back as a result with a code);
    - give every error a code and mask the unexpected ones (ErrorCodes);
    - open the operation's session and check its credentials in it; commit a
      mutation only when it fully succeeded (see `on_execute`).
    """

    def __init__(self, documents: Documents) -> None:
        super().__init__()
        self.documents = documents

    def on_parse(self) -> Iterator[None]:  # type: ignore[override]
        execution_context = self.execution_context
        text = execution_context.query
        if execution_context.graphql_document is None and text:
            try:
                document, errors = self.documents.checked(
                    execution_context.schema._schema,
                    text,
                    execution_context.validation_rules,
                )
            except GraphQLError:
                execution_context.parse_options["max_tokens"] = (
                    self.documents.max_tokens
                )
            else:
                execution_context.graphql_document = document
                # Validated: strawberry's own validation step then does nothing.
                execution_context.pre_execution_errors = list(errors)
        yield

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        """Open the operation's session; commit a mutation only when it fully
        succeeded.

        Queries run in a read session (on SQLite a plain BEGIN, never the write
        lock) and are rolled back. A mutation with any top-level error is rolled
        back whole.

        The request's credentials are checked first, in this same session: one
        pool checkout and one transaction per request. That lookup is the first
        statement, and nothing has happened yet when it runs, so a connection
        found dead there (the server restarted) is replaced and the lookup tried
        once more.
        """
        execution_context = self.execution_context
        context = execution_context.context
        write = execution_context.operation_type is OperationType.MUTATION
        session = await _authenticated_session(context, write=write)
        try:
            yield
            result = execution_context.result
            if write and result is not None and not result.errors:
                await session.commit()
            else:
                await session.rollback()
        finally:
            await session.close()
            context.session_ = None
            context.loaders_ = None
            await context.settle()


async def _authenticated_session(context: Any, *, write: bool) -> AsyncSession:
    """The operation's session, set on the context, with its credentials checked."""
    for attempt in (1, 2):
        session = context.database.session(write=write)
        context.session_ = session
        try:
            await context.authenticate(session)
        except BaseException as exc:
            context.session_ = None
            await session.close()
            if attempt == 1 and connection_lost(exc):
                logger.warning("database connection lost; retrying once: %s", exc)
                continue
            raise
        return session
    raise AssertionError("unreachable")  # pragma: no cover
