"""docs/permissions.md holds what crm/permissions.py says (no database)."""

from __future__ import annotations

import pytest

from crm import permissions_doc
from crm.permissions import (
    ROLE_PERMISSIONS,
    SCOPE_PERMISSIONS,
    Permission,
    Scope,
    StaffRole,
)


def test_the_generated_tables_in_the_docs_are_current():
    document = permissions_doc.DOCUMENT.read_text(encoding="utf-8")
    assert permissions_doc.generated_part(document) == permissions_doc.render(), (
        "docs/permissions.md is stale: regenerate its tables with "
        f"`{permissions_doc.REGENERATE}` and commit the result."
    )


def test_every_permission_scope_and_role_is_described():
    for member in (*Permission, *Scope, *StaffRole):
        assert member.description.strip(), f"Describe {member!r} in crm/permissions.py"


def test_the_tables_show_every_grant_and_nothing_else():
    text = permissions_doc.render()
    for permission in Permission:
        row = next(
            line for line in text.splitlines() if line.startswith(f"| `{permission}`")
        )
        cells = [c.strip() for c in row.strip("|").split("|")]
        marks = cells[1 : 1 + len(StaffRole)]
        assert marks == [
            "✓" if permission in ROLE_PERMISSIONS[role] else "" for role in StaffRole
        ], row
    for scope, granted in SCOPE_PERMISSIONS.items():
        assert any(
            line.startswith(f"| `{scope}` | ")
            and all(f"`{p}`" in line.split("|")[2] for p in granted)
            for line in text.splitlines()
        ), scope


def test_splice_replaces_only_the_generated_part():
    start, end = permissions_doc.START, permissions_doc.END
    document = f"# Title\n\nprose\n{start}\nold\n{end}\nend\n"
    spliced = permissions_doc.splice(document, "new\n")
    assert spliced == f"# Title\n\nprose\n{start}\nnew\n{end}\nend\n"
    assert permissions_doc.generated_part(spliced) == "new\n"
    # Idempotent.
    assert permissions_doc.splice(spliced, "new\n") == spliced
    with pytest.raises(ValueError):
        permissions_doc.splice("no markers", "x")


def test_check_and_write_keep_a_copy_in_step(tmp_path):
    copy = tmp_path / "permissions.md"
    copy.write_text(
        "intro\n<!-- generated:start -->\nstale\n<!-- generated:end -->\n",
        encoding="utf-8",
    )
    assert permissions_doc.main(["--check", "--path", str(copy)]) == 1
    assert permissions_doc.main(["--write", "--path", str(copy)]) == 0
    assert permissions_doc.main(["--check", "--path", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8").startswith("intro\n")
