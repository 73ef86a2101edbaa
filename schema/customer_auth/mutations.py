"""Customer sign-in (passwordless codes)."""

from __future__ import annotations

import strawberry


@strawberry.type
class CustomerAuthMutations:
    pass
