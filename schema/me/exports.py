"""The customer's own view (`me`) of customer data exports."""

from __future__ import annotations

import strawberry

from crm.exports import service
from crm.pagination import count
from schema.context import Info
from schema.exports.types import MyDataExport, MyDataExportConnection
from schema.relay import Connection, connection, page_args


@strawberry.type
class MeExports:
    @strawberry.field(
        description="The copies of your data you (or staff, on your behalf) asked "
        "for, newest first, with a fresh download link while each file is READY.",
        graphql_type=MyDataExportConnection,
    )
    async def data_exports(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[MyDataExport]:
        session = info.context.session
        page, stmt = await service.my_exports(
            session, info.context.actor, page=page_args(first, after, last, before)
        )
        return connection(page, MyDataExport.from_model, lambda: count(session, stmt))
