"""What an entry of the permission matrix is made of, shared by its domain modules.

tests/test_permissions_matrix.py holds the core operations; each domain adds its own
in tests/matrix/<domain>.py: an OPERATIONS dict and `build(session, world)`, which
writes the rows its operations need and returns their IDs by name (world.extra).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from crm.ids import to_global_id
from crm.permissions import Permission

P = Permission
PASSWORD = "correct horse battery staple"


class Audience(StrEnum):
    PUBLIC = "public"  # anyone, signed in or not (sign-in mutations)
    FIRM = "firm"  # staff and partner apps holding `gate` and `also`
    CUSTOMER = "customer"  # the customer's own view only
    # Any signed-in caller: firm callers holding `also`, customers (their own
    # objects, as their own types).
    SIGNED_IN = "signed in"


@dataclass
class World:
    """The rows one matrix run works on: each mutation that may succeed has its own."""

    staff_email: str
    customer: int  # read by queries; the signed-in customer
    customer_email: str
    to_update: int
    to_archive: int
    to_restore: int
    merge_target: int
    merge_source: int
    log_on: int
    interaction: int
    interaction_to_update: int
    interaction_to_delete: int
    partner_app: int
    partner_app_to_archive: int
    api_key: int
    # Rows of the domain modules (tests/matrix/<domain>.py), by the names they give.
    extra: dict[str, int] = field(default_factory=dict)


def gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


Vars = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Op:
    """One root field called in the matrix.

    `gate` is the permission its gate checks (None: any signed-in caller), `also`
    what the service needs besides. `payload_errors`: the selection has a payload
    `errors` list that must be empty when the call works.
    """

    document: str
    variables: Vars = lambda w: {}
    audience: Audience = Audience.FIRM
    gate: Permission | None = None
    also: frozenset[Permission] = field(default_factory=frozenset)
    payload_errors: bool = False

    @property
    def needs(self) -> frozenset[Permission]:
        return self.also | ({self.gate} if self.gate else set())


def input_of(build: Callable[[World], dict[str, Any]]) -> Vars:
    return lambda w: {"input": build(w)}


def mutation(name: str, input_type: str, selection: str, **kwargs: Any) -> Op:
    return Op(
        f"mutation($input: {input_type}!) "
        f"{{ {name}(input: $input) {{ {selection} }} }}",
        payload_errors="errors" in selection,
        **kwargs,
    )


ERRORS = "errors { field code message }"
