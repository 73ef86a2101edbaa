"""Configuration: environment variables prefixed MUTUAL_ (or a .env file)."""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path
from typing import Self
from urllib.parse import urlparse

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path(".mutual")
OWN_ISSUER = "mutual"


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
    token_ttl_minutes: int = Field(
        default=720, ge=5, le=60 * 24 * 30, description="Staff token lifetime."
    )
    customer_token_ttl_minutes: int = Field(
        default=60 * 24,
        ge=5,
        le=60 * 24 * 30,
        description="Lifetime of the tokens customerTokenCreate issues.",
    )
    customer_idp_issuer: str = Field(
        default="",
        description="External identity provider for customers: the `iss` its "
        "tokens carry. Unset: customers sign in with codes only.",
    )
    customer_idp_audience: str = Field(
        default="", description="The `aud` the customer provider's tokens must hold."
    )
    customer_idp_jwks: str = Field(
        default="",
        description="The customer provider's public keys: a JWKS file path, or an "
        "https URL (http only on loopback) fetched and cached.",
    )
    staff_idp_issuer: str = Field(
        default="", description="External identity provider for staff: its `iss`."
    )
    staff_idp_audience: str = Field(
        default="", description="The `aud` the staff provider's tokens must hold."
    )
    staff_idp_jwks: str = Field(
        default="", description="The staff provider's JWKS file path or URL."
    )
    idp_jwks_timeout_seconds: float = Field(
        default=5,
        gt=0,
        le=60,
        description="How long fetching a provider's JWKS URL may take.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    max_query_depth: int = 12
    max_aliases: int = 30
    max_query_cost: int = 50_000
    max_body_bytes: int = 2_000_000
    planner: bool = Field(
        default=True,
        description="Planned execution (schema/planner): list and object reads run "
        "as one SQL statement per root field. off: every field resolves on its own "
        "(the reference path the equivalence test compares against).",
    )
    log_level: str = "info"
    segment_refresh_minutes: int = Field(
        default=60,
        ge=1,
        le=60 * 24 * 30,
        description="The worker refreshes a dynamic segment once its members are "
        "this old.",
    )
    insights_refresh_hours: float = Field(
        default=24,
        gt=0,
        le=24 * 31,
        description="The worker runs a full insights refresh once the last one is "
        "this old (a purchase moves its customer's measures at once in between).",
    )
    insight_snapshots_daily_days: int = Field(
        default=90,
        ge=1,
        le=3650,
        description="Insight history: every snapshot this recent (days) is kept.",
    )
    insight_snapshots_monthly_months: int = Field(
        default=36,
        ge=0,
        le=1200,
        description="Insight history older than the daily window: the last snapshot "
        "of each customer per calendar month is kept for this many months, older "
        "ones are deleted.",
    )
    worker_poll_seconds: float = Field(
        default=60,
        gt=0,
        le=3600,
        description="How often the worker looks for due work.",
    )

    @model_validator(mode="after")
    def _check_identity_providers(self) -> Self:
        configured = []
        for kind in ("customer", "staff"):
            values = [
                getattr(self, f"{kind}_idp_{part}").strip()
                for part in ("issuer", "audience", "jwks")
            ]
            if not any(values):
                continue
            if not all(values):
                raise ValueError(
                    f"Set all of MUTUAL_{kind.upper()}_IDP_ISSUER, _AUDIENCE and "
                    "_JWKS, or none of them."
                )
            issuer, audience, jwks = values
            if issuer == OWN_ISSUER:
                raise ValueError(
                    f"MUTUAL_{kind.upper()}_IDP_ISSUER cannot be {OWN_ISSUER!r}: "
                    "that issuer names this server's own tokens."
                )
            check_jwks_location(jwks, f"MUTUAL_{kind.upper()}_IDP_JWKS")
            configured.append((issuer, audience))
        if len(configured) == 2 and configured[0] == configured[1]:
            raise ValueError(
                "The customer and staff identity providers have the same issuer and "
                "audience, so a token could not tell which one it is for."
            )
        return self

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


def is_url(location: str) -> bool:
    return urlparse(location).scheme.lower() in ("http", "https")


def check_jwks_location(location: str, name: str) -> None:
    """A JWKS URL must be https (plain http only to this machine); else a path."""
    parsed = urlparse(location)
    scheme = parsed.scheme.lower()
    # No scheme, or one letter (a Windows drive): a file path.
    if scheme == "https" or len(scheme) <= 1:
        return
    if scheme != "http":
        raise ValueError(f"{name}: use an https URL or a file path, not {scheme}:.")
    host = parsed.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"{name}: plain http is allowed only for localhost; keys fetched over "
            "http elsewhere could be swapped on the way."
        )
