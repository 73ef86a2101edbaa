"""The generated part of docs/permissions.md, rendered from crm.permissions.

    python -m crm.permissions_doc            # print the generated block
    python -m crm.permissions_doc --write    # update docs/permissions.md in place
    python -m crm.permissions_doc --check    # exit 1 when the document is stale

`render()` and `splice()` are pure; only `main()` touches files.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from crm.permissions import (
    ROLE_PERMISSIONS,
    SCOPE_PERMISSIONS,
    Permission,
    Scope,
    StaffRole,
)

START = "<!-- generated:start -->"
END = "<!-- generated:end -->"
DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"
REGENERATE = "python -m crm.permissions_doc --write"

_YES = "✓"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def render_roles() -> list[str]:
    """Roles, what each is for."""
    return _table(
        ["Role", "What it is for"],
        [[f"`{role.value}`", role.description] for role in StaffRole],
    )


def render_role_permissions() -> list[str]:
    """Permissions by role: a ✓ where the role holds the permission."""
    roles = list(StaffRole)
    rows = [
        [
            f"`{permission.value}`",
            *(_YES if permission in ROLE_PERMISSIONS[r] else "" for r in roles),
            permission.description,
        ]
        for permission in Permission
    ]
    return _table(["Permission", *(r.value for r in roles), "Lets the holder"], rows)


def render_scopes() -> list[str]:
    """Partner API key scopes and the permissions each one grants."""
    rows = [
        [
            f"`{scope.value}`",
            ", ".join(
                f"`{p.value}`" for p in Permission if p in SCOPE_PERMISSIONS[scope]
            ),
            scope.description,
        ]
        for scope in Scope
    ]
    return _table(["Scope", "Grants", "Lets the key"], rows)


def render() -> str:
    """The text between the markers (markers excluded), ending with a newline."""
    lines = [
        f"<!-- Generated from crm/permissions.py: edit that, then run `{REGENERATE}`."
        " -->",
        "",
        "### Staff roles",
        "",
        *render_roles(),
        "",
        "### Permissions by role",
        "",
        *render_role_permissions(),
        "",
        "### Partner API key scopes",
        "",
        "A key holds exactly the permissions its scopes grant, never a role's.",
        "",
        *render_scopes(),
        "",
        "### Customers",
        "",
        "A signed-in customer holds none of these permissions: every root field of"
        " the firm's API answers `FORBIDDEN`; `me` is their view.",
    ]
    return "\n".join(lines) + "\n"


def generated_part(document: str) -> str:
    """The text between the markers of `document`; ValueError without them."""
    start, end = document.find(START), document.find(END)
    if start < 0 or end < start:
        raise ValueError(f"The document needs {START} and {END}, in that order.")
    return document[start + len(START) : end].removeprefix("\n")


def splice(document: str, generated: str) -> str:
    """`document` with the text between its markers replaced by `generated`."""
    generated_part(document)  # checks the markers
    head, _, rest = document.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{generated}{END}{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m crm.permissions_doc", description=__doc__.splitlines()[0]
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help=f"update {DOCUMENT}")
    action.add_argument(
        "--check", action="store_true", help="exit 1 when the document is stale"
    )
    parser.add_argument("--path", type=Path, default=DOCUMENT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    generated = render()
    if not (args.write or args.check):
        sys.stdout.write(generated)
        return 0
    document = args.path.read_text(encoding="utf-8")
    if args.check:
        if generated_part(document) != generated:
            print(f"{args.path} is stale: run `{REGENERATE}`.", file=sys.stderr)
            return 1
        return 0
    updated = splice(document, generated)
    if updated != document:
        args.path.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
