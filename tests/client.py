"""A GraphQL client for tests, and factories for the rows they need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import func, select

from crm.actors import SystemActor
from crm.customers import service as customer_service
from crm.db import Database
from crm.interactions import service as interaction_service
from crm.staff import service as staff_service

SYSTEM = SystemActor(name="tests")


@dataclass
class Api:
    http: httpx.AsyncClient
    app: Any
    db: Database

    async def raw(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        return await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=sent,
        )

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        response = await self.raw(query, variables, token=token)
        assert response.status_code == 200, response.text
        return response.json()

    async def data(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        """The data of a query that must succeed without errors."""
        body = await self.gql(query, variables, token=token)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def error_code(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
    ) -> str:
        """The code of the (single kind of) top-level error a query must produce."""
        body = await self.gql(query, variables, token=token)
        assert body.get("errors"), body
        codes = {e["extensions"]["code"] for e in body["errors"]}
        assert len(codes) == 1, body["errors"]
        return codes.pop()

    def token_for(self, staff_id: int) -> str:
        return self.app.state.signer.issue(f"staff:{staff_id}").token

    def customer_token(self, customer_id: int) -> str:
        """A token as customerTokenCreate issues it, for the customer's own view."""
        return self.app.state.signer.issue(f"customer:{customer_id}").token

    async def staff(
        self,
        role: str = "admin",
        *,
        email: str | None = None,
        password: str | None = None,
    ) -> tuple[int, str]:
        """A staff member of `role` and a bearer token for them."""
        async with self.db.transaction() as session:
            count = await session.scalar(
                select(func.count()).select_from(staff_service.StaffMember)
            )
            member = await staff_service.create_staff(
                session,
                SYSTEM,
                email=email or f"{role}{count}@staff.test",
                display_name=f"{role.title()} {count}",
                role=role,
                password=password,
            )
        assert member.id is not None
        return member.id, self.token_for(member.id)

    async def partner_key(
        self, scopes: list[str], *, name: str = "Partner", expires_at: Any = None
    ) -> str:
        """A partner app with one API key holding `scopes`; returns the raw key.

        The format is the one crm.partners issues: `mut_<8 chars>_<secret>`, found
        by its prefix (`mut_<8 chars>`), kept as the SHA-256 hex of the whole key.
        """
        import hashlib
        import secrets

        from crm.partners.models import ApiKey, PartnerApp

        prefix = "mut_" + secrets.token_hex(4)
        raw = f"{prefix}_{secrets.token_urlsafe(24)}"
        async with self.db.transaction() as session:
            app = PartnerApp(name=name, created_by="system:tests")
            session.add(app)
            await session.flush()
            assert app.id is not None
            session.add(
                ApiKey(
                    partner_app_id=app.id,
                    name=f"{name} key",
                    prefix=prefix,
                    secret_hash=hashlib.sha256(raw.encode()).hexdigest(),
                    scopes=list(scopes),
                    created_by="system:tests",
                    expires_at=expires_at,
                )
            )
        return raw

    async def customer(self, **fields: Any) -> int:
        async with self.db.transaction() as session:
            customer = await customer_service.create_customer(session, SYSTEM, fields)
        assert customer.id is not None
        return customer.id

    async def interaction(self, customer_id: int, **fields: Any) -> int:
        data = {"channel": "email", "direction": "inbound", "kind": "support", **fields}
        async with self.db.transaction() as session:
            result = await interaction_service.log_interaction(
                session, SYSTEM, customer_id, data
            )
        assert result.interaction.id is not None
        return result.interaction.id

    async def count(self, model: Any) -> int:
        async with self.db.transaction(write=False) as session:
            return int(
                await session.scalar(select(func.count()).select_from(model)) or 0
            )
