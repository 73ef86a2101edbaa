"""HTTP routes that serve files outside GraphQL (prepared data exports)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from api.settings import Settings
from crm.db import Database
from crm.tokens import TokenSigner


def download_routes(
    database: Database, signer: TokenSigner, settings: Settings
) -> list[BaseRoute]:
    """The download routes of the app."""
    return []
