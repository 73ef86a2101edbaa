"""Operation-level hooks: one transaction per operation, document limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension


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
    """

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context.context
        write = self.execution_context.operation_type.value == "mutation"
        session = context.database.session(write=write)
        context.session_ = session
        try:
            yield
            result = self.execution_context.result
            if write and result is not None and not result.errors:
                await session.commit()
            else:
                await session.rollback()
        finally:
            await session.close()
            context.session_ = None
            context.loaders_ = None
