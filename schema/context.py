"""The per-operation context every resolver receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info as StrawberryInfo

from crm.actors import Actor
from crm.db import Database
from crm.tokens import TokenSigner

if TYPE_CHECKING:
    from schema.loaders import Loaders

T = TypeVar("T")


@dataclass(frozen=True)
class Authentication:
    """Who the caller is; `error` says why their credentials were refused, if they
    were (the actor is then anonymous)."""

    actor: Actor
    error: str | None = None


class Credentials(Protocol):
    """Credentials a request presented and nobody has checked yet (api/auth.py).

    They are checked in the operation's own session, so that authenticating costs
    no pool checkout and no transaction of its own."""

    async def authenticate(self, session: AsyncSession) -> Authentication:
        """The caller; refusals are reported, database errors raised."""
        ...

    async def settle(self, database: Database) -> None:
        """Bookkeeping after the operation's transaction (never raises)."""
        ...


@dataclass
class Context:
    actor: Actor
    database: Database
    signer: TokenSigner
    # Lifetime of the tokens customerTokenCreate issues.
    customer_token_ttl: timedelta = timedelta(hours=24)
    request: Any = None
    # Why the credentials were refused, when they were (the actor is then anonymous).
    auth_error: str | None = None
    # Whether root fields may run planned (schema/planner); off: field by field.
    planner: bool = False
    # Presented but not yet checked: schema.extensions.MutualOperation checks
    # them in the operation's session, then sets `actor` and `auth_error`.
    credentials: Credentials | None = None
    session_: AsyncSession | None = None
    loaders_: Loaders | None = field(default=None)
    # Per-operation objects of the domain packages (their DataLoaders), by key.
    memo_: dict[str, Any] = field(default_factory=dict)

    def memo(self, key: str, build: Callable[[], T]) -> T:
        """The object stored under `key` for this operation, built on first use
        (a domain's DataLoaders live here, so they never cross operations)."""
        if key not in self.memo_:
            self.memo_[key] = build()
        return self.memo_[key]  # type: ignore[no-any-return]

    async def authenticate(self, session: AsyncSession) -> None:
        """Check the pending credentials, if any, in `session`."""
        if self.credentials is not None:
            found = await self.credentials.authenticate(session)
            self.actor, self.auth_error = found.actor, found.error

    async def settle(self) -> None:
        """Once the transaction is over: the credentials' bookkeeping, if any."""
        if self.credentials is not None:
            credentials, self.credentials = self.credentials, None
            await credentials.settle(self.database)

    @property
    def session(self) -> AsyncSession:
        if self.session_ is None:
            raise RuntimeError("No database session: the operation has not started.")
        return self.session_

    @property
    def loaders(self) -> Loaders:
        if self.loaders_ is None:
            from schema.loaders import Loaders

            self.loaders_ = Loaders(self.session, self.actor)
        return self.loaders_


Info = StrawberryInfo[Context, None]
