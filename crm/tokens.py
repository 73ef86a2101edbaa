"""Signed, expiring access tokens (JWT, HS256) for staff."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import jwt

from crm.columns import utcnow
from crm.errors import Unauthenticated


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime


# Tokens whose signature and claims were checked, kept so that the next request
# with the same token skips decoding it again (PyJWT checks base64 one character
# at a time in Python: about as costly as the rest of the request's own work).
VERIFIED_TOKENS = 4096


@dataclass(frozen=True)
class TokenSigner:
    secret: str
    issuer: str = "mutual"
    audience: str = "mutual-api"
    ttl: timedelta = timedelta(hours=12)
    # token -> (subject, exp): verified by this signer's secret, good until exp.
    _verified: dict[str, tuple[str, float]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

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

    def verified_subject(self, token: str) -> str | None:
        """The subject of a token this signer verified before and that has not
        expired since; None otherwise (then `verify` says why, or verifies it)."""
        known = self._verified.get(token)
        if known is None or known[1] <= time.time():
            return None
        return known[0]

    def verify(self, token: str) -> str:
        """The subject of a valid token; Unauthenticated for expired or forged ones."""
        subject = self.verified_subject(token)
        if subject is not None:
            return subject
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
        if "nbf" not in claims:  # ours never carry one; nothing else to re-check
            if len(self._verified) >= VERIFIED_TOKENS:
                del self._verified[next(iter(self._verified))]  # the oldest
            self._verified[token] = (subject, float(claims["exp"]))
        return subject
