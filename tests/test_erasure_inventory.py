"""The erasure inventory names every table, so none is forgotten silently."""

from __future__ import annotations

import crm.models  # noqa: F401  (every table registered)
from crm.db import metadata
from crm.erasure.inventory import INVENTORY, Treatment


def test_every_table_has_an_erasure_rule_and_every_rule_a_table():
    tables = set(metadata.tables)
    assert sorted(tables - set(INVENTORY)) == [], "tables without an erasure rule"
    assert sorted(set(INVENTORY) - tables) == [], "rules for tables that do not exist"


def test_generic_rules_name_a_customer_column_and_clear_existing_columns():
    for name, rule in INVENTORY.items():
        if rule.treatment in (Treatment.DELETE, Treatment.CLEAR):
            table = metadata.tables[name]
            assert rule.customer_column in table.c, name
            assert set(rule.clear) <= set(table.c.keys()), name
        assert rule.why, name
