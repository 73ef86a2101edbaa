"""The per-operation context every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info as StrawberryInfo

from crm.actors import Actor
from crm.db import Database
from crm.tokens import TokenSigner

if TYPE_CHECKING:
    from schema.loaders import Loaders


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
    session_: AsyncSession | None = None
    loaders_: Loaders | None = field(default=None)

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
