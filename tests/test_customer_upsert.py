import pytest
from sqlalchemy import event, func, select

from crm.actors import Anonymous, StaffActor
from crm.audit.models import AuditEvent
from crm.customers import service
from crm.customers.models import Customer
from crm.customers.upsert import MAX_ROWS, ErrorPolicy, upsert_customers
from crm.errors import BadInput, Forbidden, Unauthenticated
from crm.permissions import StaffRole
from crm.staff.models import StaffMember

FAILED_ROWS = ErrorPolicy.REJECT_FAILED_ROWS
EVERYTHING = ErrorPolicy.REJECT_EVERYTHING


async def upsert(db, actor, rows, policy=FAILED_ROWS):
    async with db.transaction() as session:
        return await upsert_customers(session, actor, rows, policy=policy)


async def create(db, actor, **data):
    async with db.transaction() as session:
        return await service.create_customer(session, actor, data)


async def state(db):
    """Every customer as (id, version, snapshot) and the number of audit rows."""
    async with db.transaction(write=False) as session:
        customers = (
            await session.scalars(select(Customer).order_by(Customer.id))
        ).all()
        audits = await session.scalar(select(func.count()).select_from(AuditEvent))
    return [(c.id, c.version, service.snapshot(c)) for c in customers], audits


async def audit_rows(db, action):
    async with db.transaction(write=False) as session:
        stmt = select(AuditEvent).where(AuditEvent.action == action)
        return (await session.scalars(stmt.order_by(AuditEvent.id))).all()


def codes(result):
    return [[(e.index, e.field, e.code) for e in row.errors] for row in result.rows]


async def test_new_rows_are_created_and_audited(db, system_actor):
    result = await upsert(
        db,
        system_actor,
        [
            {"external_ref": "p-1", "email": "Ann@Example.com", "given_name": "Ann"},
            {"email": "bob@example.com", "tags": ["vip"]},
        ],
    )

    assert (result.created, result.updated, result.unchanged, result.rejected) == (
        2,
        0,
        0,
        0,
    )
    assert [r.created for r in result.rows] == [True, True]
    customers, _ = await state(db)
    assert [c[2]["email"] for c in customers] == ["Ann@Example.com", "bob@example.com"]
    assert customers[0][2]["display_name"] == "Ann"
    created = await audit_rows(db, "customer.created")
    assert [a.entity_id for a in created] == [c[0] for c in customers]
    assert created[0].changes["external_ref"] == {"before": None, "after": "p-1"}


async def test_a_matched_row_changes_only_the_given_fields(db, system_actor):
    ann = await create(db, system_actor, external_ref="p-1", phone="+44 1", company="A")

    result = await upsert(db, system_actor, [{"external_ref": "p-1", "company": "B"}])

    assert (result.created, result.updated) == (0, 1)
    assert result.rows[0].customer.id == ann.id
    customers, _ = await state(db)
    (_, version, fields) = customers[0]
    assert (fields["company"], fields["phone"], version) == ("B", "+44 1", 2)
    (updated,) = await audit_rows(db, "customer.updated")
    assert updated.entity_id == ann.id
    assert updated.changes == {"company": {"before": "A", "after": "B"}}


async def test_a_row_matches_by_email_ignoring_case(db, system_actor):
    ann = await create(db, system_actor, email="Ann@Example.com")

    result = await upsert(
        db, system_actor, [{"email": "ann@EXAMPLE.com", "given_name": "Ann"}]
    )

    assert (result.created, result.updated) == (0, 1)
    assert result.rows[0].customer.id == ann.id


async def test_an_unknown_ref_adopts_the_customer_with_its_email_and_no_ref(
    db, system_actor
):
    ann = await create(db, system_actor, email="ann@example.com")

    result = await upsert(
        db, system_actor, [{"external_ref": "p-9", "email": "ann@example.com"}]
    )

    assert (result.created, result.updated) == (0, 1)
    customers, _ = await state(db)
    assert [(c[0], c[2]["external_ref"]) for c in customers] == [(ann.id, "p-9")]


async def test_an_email_held_by_a_customer_with_another_ref_is_a_duplicate(
    db, system_actor
):
    await create(db, system_actor, external_ref="p-1", email="ann@example.com")
    before = await state(db)

    result = await upsert(
        db, system_actor, [{"external_ref": "p-2", "email": "ann@example.com"}]
    )

    assert codes(result) == [[(0, "email", "DUPLICATE")]]
    assert result.rows[0].customer is None
    assert await state(db) == before


async def test_changing_email_to_one_of_another_customer_is_a_duplicate(
    db, system_actor
):
    await create(db, system_actor, external_ref="p-1", email="ann@example.com")
    await create(db, system_actor, email="bob@example.com")
    before = await state(db)

    result = await upsert(
        db, system_actor, [{"external_ref": "p-1", "email": "BOB@example.com"}]
    )

    assert codes(result) == [[(0, "email", "DUPLICATE")]]
    assert await state(db) == before


async def test_unchanged_rows_bump_no_version_and_leave_no_event(db, system_actor):
    await create(db, system_actor, external_ref="p-1", email="ann@example.com")
    before = await state(db)

    result = await upsert(
        db,
        system_actor,
        [{"external_ref": "p-1", "email": "ann@example.com", "tags": []}],
    )

    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert result.rows[0].customer is not None
    assert await state(db) == before


async def test_a_key_repeated_in_the_batch_rejects_the_later_row(db, system_actor):
    ann = await create(db, system_actor, external_ref="p-1", email="ann@example.com")

    result = await upsert(
        db,
        system_actor,
        [
            {"external_ref": "p-2", "given_name": "Bob"},
            {"external_ref": "p-2", "given_name": "Robert"},
            {"email": "cy@example.com"},
            {"email": "CY@example.com"},
            {"external_ref": "p-1", "company": "A"},
            # The same customer again, reached through its email.
            {"email": "ann@example.com", "company": "B"},
        ],
    )

    assert codes(result) == [
        [],
        [(1, "external_ref", "DUPLICATE_IN_BATCH")],
        [],
        [(3, "email", "DUPLICATE_IN_BATCH")],
        [],
        [(5, "email", "DUPLICATE_IN_BATCH")],
    ]
    assert (result.created, result.updated, result.rejected) == (2, 1, 3)
    customers, _ = await state(db)
    by_id = {c[0]: c[2] for c in customers}
    assert by_id[ann.id]["company"] == "A"
    assert sorted(f["display_name"] for f in by_id.values()) == [
        "Bob",
        "ann@example.com",
        "cy@example.com",
    ]


async def test_a_row_without_ref_or_email_is_rejected(db, system_actor):
    result = await upsert(
        db, system_actor, [{"given_name": "Ann"}, {"email": "  ", "phone": "+1 555"}]
    )

    assert codes(result) == [[(0, None, "REQUIRED")], [(1, None, "REQUIRED")]]
    assert "external_ref or email" in result.rows[0].errors[0].message
    assert await state(db) == ([], 0)


async def test_validation_errors_name_the_row_and_field(db, system_actor):
    result = await upsert(
        db,
        system_actor,
        [
            {"email": "ann@example.com"},
            {"email": "not-an-email", "locale": "??", "favourite": "blue"},
            {"email": "cy@example.com", "owner_id": 424242},
            {"email": "di@example.com", "owner_id": "7"},
            "not a mapping",
        ],
    )

    assert codes(result) == [
        [],
        [
            (1, "email", "INVALID_EMAIL"),
            (1, "locale", "INVALID"),
            (1, "favourite", "UNKNOWN_FIELD"),
        ],
        [(2, "owner_id", "NOT_FOUND")],
        [(3, "owner_id", "INVALID")],
        [(4, None, "INVALID")],
    ]
    assert (result.created, result.rejected) == (1, 4)


async def test_an_active_owner_is_accepted(db, system_actor):
    async with db.transaction() as session:
        staff = StaffMember(
            email="sam@firm.test", email_key="sam@firm.test", display_name="Sam"
        )
        staff.role = StaffRole.AGENT.value
        session.add(staff)
    result = await upsert(
        db, system_actor, [{"email": "ann@example.com", "owner_id": staff.id}]
    )

    assert codes(result) == [[]]
    assert result.rows[0].customer.owner_id == staff.id


async def test_an_archived_match_is_rejected(db, system_actor):
    ann = await create(db, system_actor, external_ref="p-1", email="ann@example.com")
    async with db.transaction() as session:
        await service.archive_customer(session, system_actor, ann.id, archived=True)
    before = await state(db)

    result = await upsert(
        db,
        system_actor,
        [
            {"external_ref": "p-1", "company": "A"},
            {"email": "ann@example.com", "company": "A"},
        ],
    )

    assert codes(result) == [
        [(0, "external_ref", "ARCHIVED")],
        [(1, "email", "ARCHIVED")],
    ]
    assert await state(db) == before


async def test_reject_everything_writes_nothing_when_one_row_fails(db, system_actor):
    await create(db, system_actor, external_ref="p-1")
    before = await state(db)

    result = await upsert(
        db,
        system_actor,
        [
            {"external_ref": "p-1", "company": "A"},
            {"email": "bad"},
            {"email": "new@example.com"},
        ],
        policy=EVERYTHING,
    )

    assert codes(result) == [[], [(1, "email", "INVALID_EMAIL")], []]
    assert [r.customer for r in result.rows] == [None, None, None]
    assert (result.created, result.updated, result.unchanged, result.rejected) == (
        0,
        0,
        0,
        3,
    )
    assert await state(db) == before


async def test_reject_everything_writes_all_rows_when_none_fails(db, system_actor):
    result = await upsert(
        db, system_actor, [{"email": "a@example.com"}], policy=EVERYTHING
    )

    assert (result.created, result.rejected) == (1, 0)
    assert result.rows[0].customer.id is not None


async def test_reject_failed_rows_writes_the_good_rows(db, system_actor):
    result = await upsert(
        db,
        system_actor,
        [{"email": "a@example.com"}, {"email": "bad"}, {"email": "c@example.com"}],
    )

    assert codes(result) == [[], [(1, "email", "INVALID_EMAIL")], []]
    customers, audits = await state(db)
    assert [c[2]["email"] for c in customers] == ["a@example.com", "c@example.com"]
    assert audits == 2


async def test_zero_rows_is_an_empty_result(db, system_actor):
    result = await upsert(db, system_actor, [])

    assert (result.rows, result.created, result.rejected) == ([], 0, 0)


async def test_more_than_the_row_limit_is_bad_input(db, system_actor):
    rows = [{"email": f"c{i}@example.com"} for i in range(MAX_ROWS + 1)]

    with pytest.raises(BadInput) as raised:
        await upsert(db, system_actor, rows)

    assert raised.value.field == "rows"
    assert await state(db) == ([], 0)


@pytest.mark.parametrize(
    ("actor", "error"),
    [
        (StaffActor(staff_id=1, role=StaffRole.ANALYST), Forbidden),
        (Anonymous(), Unauthenticated),
    ],
)
async def test_a_caller_without_write_permission_changes_nothing(
    db, system_actor, actor, error
):
    await create(db, system_actor, external_ref="p-1")
    before = await state(db)

    with pytest.raises(error):
        await upsert(
            db, actor, [{"external_ref": "p-1", "company": "A"}, {"email": "b@x.io"}]
        )

    assert await state(db) == before


async def test_lookups_inserts_and_audit_do_not_grow_with_the_batch(db, system_actor):
    async def statements(n, offset):
        existing = [{"external_ref": f"u-{offset + i}"} for i in range(n)]
        await upsert(db, system_actor, existing)
        seen = []

        def count(conn, cursor, statement, *args):
            seen.append(statement.split("(")[0].split(" WHERE")[0].strip())

        rows = [{"external_ref": f"u-{offset + i}", "company": "X"} for i in range(n)]
        rows += [{"external_ref": f"n-{offset + i}"} for i in range(n)]
        event.listen(db.write_engine.sync_engine, "before_cursor_execute", count)
        try:
            result = await upsert(db, system_actor, rows)
        finally:
            event.remove(db.write_engine.sync_engine, "before_cursor_execute", count)
        assert (result.created, result.updated) == (n, n)
        return seen

    small, large = await statements(3, 0), await statements(40, 100)

    # Each update is its own UPDATE (the version check needs its row count), and
    # SQLite cannot order a multi-row RETURNING, so it inserts row by row.
    def fixed(seen):
        return [
            s
            for s in seen
            if not s.startswith("UPDATE customer")
            and not (db.sqlite and s == "INSERT INTO customer")
        ]

    assert fixed(small) == fixed(large)
    assert sum(s.startswith("SELECT") for s in large) == 1  # refs only: no emails
    assert large.count("INSERT INTO audit_event") == 1
    if not db.sqlite:
        assert large.count("INSERT INTO customer") == 1
