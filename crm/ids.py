"""Global IDs: opaque, typed identifiers ("Customer:42" in URL-safe base64)."""

from __future__ import annotations

import base64
import binascii

from crm.errors import BadInput

MAX_ID_LENGTH = 100


def to_global_id(type_name: str, pk: int) -> str:
    raw = f"{type_name}:{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_global_id(value: object, *, field: str = "id") -> tuple[str, int]:
    """(type name, primary key) of a global ID; BadInput when it is not one."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_LENGTH:
        raise BadInput(f"{field} is not a valid ID.", field=field)
    try:
        decoded = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        type_name, _, pk = decoded.partition(":")
        number = int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadInput(f"{field} is not a valid ID.", field=field) from None
    if (
        not type_name.isascii()
        or not type_name.isidentifier()
        or not 0 < number < 2**31
        or pk != str(number)
        # One spelling per ID: base64 that decodes alike (other trailing bits,
        # the standard alphabet) would let one object pass for two in caches.
        or value.rstrip("=") != to_global_id(type_name, number)
    ):
        raise BadInput(f"{field} is not a valid ID.", field=field)
    return type_name, number


def decode_id(value: object, expected: str, *, field: str = "id") -> int:
    """The primary key of an ID that must name an `expected` object."""
    type_name, pk = parse_global_id(value, field=field)
    if type_name != expected:
        raise BadInput(f"{field} is not the ID of a {expected}.", field=field)
    return pk
