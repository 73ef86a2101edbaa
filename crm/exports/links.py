"""Short-lived download links: a signed token naming one export, its customer and
the caller the link was issued to.

Signed with the server's key for an audience of their own, so a link is never a
credential for the API and an API token is never a link.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from crm.columns import utcnow
from crm.tokens import IssuedToken, TokenSigner

LINK_TTL = timedelta(minutes=15)
LINK_AUDIENCE = "mutual-data-export"


class LinkInvalid(Exception):
    """Forged, malformed, or signed for something else."""


class LinkExpired(Exception):
    """Genuine but past its time."""


@dataclass(frozen=True)
class LinkClaims:
    export_id: int
    customer_id: int
    holder: str  # actor ref (`customer:7`, `staff:3`) the link was issued to


def issue_link(
    signer: TokenSigner,
    *,
    export_id: int,
    customer_id: int,
    holder: str,
    issued_at: datetime | None = None,
    ttl: timedelta = LINK_TTL,
) -> IssuedToken:
    """A token for downloading export `export_id`, valid for `ttl` from `issued_at`."""
    now = issued_at or utcnow()
    expires = now + ttl
    claims = {
        "sub": f"export:{export_id}",
        "cus": customer_id,
        "hld": holder,
        "iss": signer.issuer,
        "aud": LINK_AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int(expires.timestamp()),
        "jti": secrets.token_urlsafe(8),
    }
    return IssuedToken(jwt.encode(claims, signer.secret, algorithm="HS256"), expires)


def read_link(signer: TokenSigner, token: str) -> LinkClaims:
    """The claims of a genuine, current link; LinkExpired or LinkInvalid otherwise."""
    if not token or len(token) > 2000:
        raise LinkInvalid
    try:
        claims = jwt.decode(
            token,
            signer.secret,
            algorithms=["HS256"],
            audience=LINK_AUDIENCE,
            issuer=signer.issuer,
            options={"require": ["exp", "iat", "sub", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise LinkExpired from None
    except jwt.PyJWTError:
        raise LinkInvalid from None
    kind, _, ident = str(claims.get("sub", "")).partition(":")
    customer_id, holder = claims.get("cus"), claims.get("hld")
    if (
        kind != "export"
        or not ident.isascii()
        or not ident.isdigit()
        or len(ident) > 10
        or not isinstance(customer_id, int)
        or not isinstance(holder, str)
    ):
        raise LinkInvalid
    return LinkClaims(export_id=int(ident), customer_id=customer_id, holder=holder)
