"""Configuration: environment variables prefixed MUTUAL_ (or a .env file)."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path(".mutual")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MUTUAL_", env_file=".env", extra="ignore"
    )

    database_url: str = Field(
        default=f"sqlite+aiosqlite:///{DATA_DIR / 'mutual.db'}",
        description="SQLAlchemy URL; postgresql://user@host/db for production.",
    )
    secret_key: str = Field(
        default="",
        description="Signs access tokens. Unset: a random key kept in "
        ".mutual/secret_key.",
    )
    environment: str = Field(
        default="development", description="development or production"
    )
    token_ttl_minutes: int = Field(default=720, ge=5, le=60 * 24 * 30)
    host: str = "127.0.0.1"
    port: int = 8000
    max_query_depth: int = 12
    max_aliases: int = 30
    max_query_cost: int = 50_000
    max_body_bytes: int = 2_000_000
    log_level: str = "info"

    @property
    def development(self) -> bool:
        return self.environment != "production"

    def resolved_secret(self) -> str:
        """The signing key; in development a random one is made once and kept."""
        if self.secret_key:
            return self.secret_key
        if not self.development:
            raise RuntimeError("MUTUAL_SECRET_KEY must be set in production.")
        path = DATA_DIR / "secret_key"
        if path.exists():
            return path.read_text().strip()
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key
