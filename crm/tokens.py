"""Signed, expiring access tokens (JWT, HS256) for staff."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from crm.columns import utcnow
from crm.errors import Unauthenticated


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class TokenSigner:
    secret: str
    issuer: str = "mutual"
    audience: str = "mutual-api"
    ttl: timedelta = timedelta(hours=12)

    def issue(self, subject: str, *, ttl: timedelta | None = None) -> IssuedToken:
        now = utcnow()
        expires = now + (ttl or self.ttl)
        claims = {
            "sub": subject,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": secrets.token_urlsafe(12),
        }
        return IssuedToken(jwt.encode(claims, self.secret, algorithm="HS256"), expires)

    def verify(self, token: str) -> str:
        """The subject of a valid token; Unauthenticated for expired or forged ones."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=["HS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("The token has expired; sign in again.") from None
        except jwt.PyJWTError:
            raise Unauthenticated("The token is not valid.") from None
        subject = claims.get("sub")
        if not isinstance(subject, str):
            raise Unauthenticated("The token is not valid.")
        return subject
