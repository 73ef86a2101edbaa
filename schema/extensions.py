"""Operation-level hooks: one transaction per operation, document limits."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import GraphQLError
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.types.graphql import OperationType

from crm.db import connection_lost

logger = logging.getLogger("mutual.db")


class CachedParser(ParserCache):
    """strawberry's ParserCache, except that a document that does not parse is left
    to strawberry's own parse step, which turns the error into a result that the
    ErrorCodes extension sees (ParserCache raises it past every extension, so a
    syntax error or the token limit would otherwise reach the client uncoded)."""

    def on_parse(self) -> Iterator[None]:  # type: ignore[override]
        try:
            yield from super().on_parse()
        except GraphQLError:
            self.execution_context.graphql_document = None
            yield


class OperationTransaction(SchemaExtension):
    """Open the operation's session; commit a mutation only when it fully succeeded.

    Queries run in a read session (on SQLite a plain BEGIN, never the write lock)
    and are rolled back. A mutation with any top-level error is rolled back whole.

    The request's credentials are checked first, in this same session: one pool
    checkout and one transaction per request. That lookup is the first statement,
    and nothing has happened yet when it runs, so a connection found dead there
    (the server restarted) is replaced and the lookup tried once more.
    """

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
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
