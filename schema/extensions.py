"""Operation-level hooks: one transaction per operation, document limits."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension


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
