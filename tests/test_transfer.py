from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest
from sqlalchemy import delete, func, select

from crm.actors import Anonymous, StaffActor
from crm.audit.models import AuditEvent, OutboxEvent
from crm.customers import service
from crm.customers.models import Customer
from crm.errors import BadInput, Conflict, Forbidden, Unauthenticated
from crm.interactions.models import Interaction
from crm.interactions.service import log_interaction
from crm.permissions import StaffRole
from crm.transfer import export_file, import_file, importer

HEADER = "external_ref,email,given_name,tags,attributes,nickname\n"


def write(path, text):
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def rejected(report):
    """(line, field, code) of each rejected line; the code leads the reason."""
    return [(r.line, r.field, r.reason.split(":")[0]) for r in report.rejected]


async def customers(db):
    async with db.transaction(write=False) as session:
        stmt = select(Customer).order_by(Customer.id)
        return [service.snapshot(c) for c in await session.scalars(stmt)]


async def counts(db):
    async with db.transaction(write=False) as session:
        return [
            await session.scalar(select(func.count()).select_from(table))
            for table in (Customer, Interaction, AuditEvent)
        ]


async def empty(db):
    async with db.transaction() as session:
        for table in (OutboxEvent, AuditEvent, Interaction, Customer):
            await session.execute(delete(table))


async def import_(db, actor, path, kind="customers", **kwargs):
    return await import_file(db, path, kind=kind, actor=actor, **kwargs)


async def test_good_lines_are_imported_and_each_bad_one_is_reported(
    db, system_actor, tmp_path
):
    path = write(
        tmp_path / "customers.csv",
        HEADER
        + 'p-1,ann@example.com,Ann,vip;north,"{""tier"": 1}",\n'  # line 2
        + "p-2,not-an-email,Bob,,,\n"  # line 3: invalid email
        + 'p-3,cy@example.com,"Cy\nSmith",,,\n'  # lines 4-5: one quoted cell
        + "p-4,di@example.com,Di,,,Didi\n"  # line 6: unknown column
        + "p-5,ed@example.com,Ed\n"  # line 7: too few cells
        + 'p-6,"fay@example.com"x,Fay,,,\n'  # line 8: malformed quoting
        + "p-7,gus@example.com,Gus,,{oops,\n"  # line 9: attributes not JSON
        + "\n"  # line 10: blank, skipped
        + ",,Hal,,,\n"  # line 11: neither key
        + "p-8,ivy@example.com,Ivy,,,\n",  # line 12
    )

    report = await import_(db, system_actor, path, batch_size=2)

    assert rejected(report) == [
        (3, "email", "INVALID_EMAIL"),
        (6, "nickname", "UNKNOWN_FIELD"),
        (7, None, "MALFORMED"),
        (8, None, "MALFORMED"),
        (9, "attributes", "INVALID"),
        (11, None, "REQUIRED"),
    ]
    assert report.rejected[0].record["email"] == "not-an-email"
    assert report.rejected[2].reason == "MALFORMED: 3 cells; the header has 6."
    assert "not a valid email" in report.rejected[0].reason
    assert (report.read, report.created, report.updated) == (9, 3, 0)
    stored = await customers(db)
    assert [c["external_ref"] for c in stored] == ["p-1", "p-3", "p-8"]
    assert stored[0]["tags"] == ["vip", "north"]
    assert stored[0]["attributes"] == {"tier": 1}
    assert stored[1]["given_name"] == "Cy\nSmith"


async def test_a_second_import_updates_and_leaves_unchanged(db, system_actor, tmp_path):
    first = write(
        tmp_path / "a.csv",
        "external_ref,email,company\np-1,ann@example.com,A\np-2,bob@example.com,B\n",
    )
    second = write(
        tmp_path / "b.csv",
        # Empty cells are "not given": p-2 keeps its email and company.
        "external_ref,email,company\np-1,,A\np-2,,C\n",
    )
    await import_(db, system_actor, first)

    report = await import_(db, system_actor, second)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    assert [(c["email"], c["company"]) for c in await customers(db)] == [
        ("ann@example.com", "A"),
        ("bob@example.com", "C"),
    ]


@pytest.mark.parametrize("batch_size", [1, 2, 500])
async def test_a_repeated_key_is_applied_in_file_order_at_any_batch_size(
    db, system_actor, tmp_path, batch_size
):
    path = write(
        tmp_path / "c.jsonl",
        b'{"email": "ann@example.com", "company": "A"}\n'
        b'{"email": "ANN@example.com", "company": "B"}\n'
        b'{"external_ref": "p-1", "email": "ann@example.com"}\n'
        b'{"external_ref": "p-1", "company": "C"}\n'
        # The same customer by its other key: applied after the line before.
        b'{"email": "ann@example.com", "company": "D"}\n',
    )

    report = await import_(db, system_actor, path, batch_size=batch_size)

    assert (report.created, report.updated, report.rejected) == (1, 4, [])
    [ann] = await customers(db)
    assert (ann["company"], ann["external_ref"]) == ("D", "p-1")


async def test_malformed_json_lines_are_reported_and_the_rest_imported(
    db, system_actor, tmp_path
):
    path = write(
        tmp_path / "customers.jsonl",
        b'{"email": "ann@example.com"}\n'
        b"{not json\n"
        b'["a", "list"]\n'
        b"\n"
        b'{"email": "bob@example.com", "given_name": "Bo\xff"}\n'
        b'{"email": "cy@example.com", "tags": "vip"}\n'
        b'{"email": "di@example.com", "tags": ["vip"], "attributes": {"a": 1}}\n',
    )

    report = await import_(db, system_actor, path)

    assert rejected(report) == [
        (2, None, "MALFORMED"),
        (3, None, "MALFORMED"),
        (5, None, "MALFORMED"),
        (6, "tags", "INVALID"),
    ]
    assert report.rejected[0].record == {"text": "{not json"}
    assert (report.read, report.created) == (6, 2)
    assert [c["email"] for c in await customers(db)] == [
        "ann@example.com",
        "di@example.com",
    ]


async def test_a_csv_line_that_is_not_utf8_is_reported(db, system_actor, tmp_path):
    path = write(
        tmp_path / "customers.csv",
        b"\xef\xbb\xbfemail,given_name\nann@example.com,Ann\nbob@example.com,B\xe9\n",
    )

    report = await import_(db, system_actor, path)

    assert rejected(report) == [(3, None, "INVALID_ENCODING")]
    assert [c["email"] for c in await customers(db)] == ["ann@example.com"]


async def seed(db, actor):
    """Customers and interactions with the awkward values a file must carry."""
    async with db.transaction() as session:
        ann = await service.create_customer(
            session,
            actor,
            {
                "external_ref": "p-1",
                "email": "Ann@Example.com",
                "given_name": "Ann",
                "family_name": "O'Neil, Jr.",
                "tags": ["vip", "north"],
                "attributes": {"tier": "gold", "nested": {"a": [1, 2]}},
                "locale": "en-GB",
                "time_zone": "Europe/London",
                "lifecycle_stage": "active",
            },
        )
        bob = await service.create_customer(
            session,
            actor,
            {"email": "bob@example.com", "display_name": 'Bob "the" Builder'},
        )
        await service.create_customer(
            session, actor, {"external_ref": "p-3", "tags": ["a;b", "[c]", "Ünï"]}
        )
        gone = await service.create_customer(session, actor, {"email": "x@y.io"})
        await service.archive_customer(session, actor, gone.id, archived=True)
        at = datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
        for customer_id, data in [
            (
                ann.id,
                {
                    "kind": "purchase",
                    "amount": Decimal("19.99"),
                    "currency": "EUR",
                    "cost_to_serve": Decimal("2.5"),
                    "external_ref": "order-1",
                    "rating": 9,
                },
            ),
            (ann.id, {"kind": "note", "body": 'Line one\nline two, "quoted"'}),
            (bob.id, {"kind": "support", "sentiment": -0.25, "subject": "Help"}),
        ]:
            await log_interaction(
                session,
                actor,
                customer_id,
                {
                    "channel": "email",
                    "direction": "inbound",
                    "occurred_at": at,
                    "visibility": "shared",
                    **data,
                },
            )


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
async def test_export_then_import_into_an_empty_database_round_trips(
    db, system_actor, tmp_path, fmt
):
    await seed(db, system_actor)
    files = {k: tmp_path / f"{k}.{fmt}" for k in ("customers", "interactions")}
    written = {
        kind: await export_file(db, path, kind=kind, actor=system_actor)
        for kind, path in files.items()
    }
    assert written == {"customers": 3, "interactions": 3}
    before = await customers(db)
    await empty(db)

    reports = [await import_(db, system_actor, files[k], kind=k) for k in files]

    assert [(r.created, r.rejected) for r in reports] == [(3, []), (3, [])]
    after = await customers(db)
    assert after == [c for c in before if c["archived_at"] is None]
    again = {k: tmp_path / f"again-{k}.{fmt}" for k in files}
    for kind, path in again.items():
        await export_file(db, path, kind=kind, actor=system_actor)
        assert path.read_bytes() == files[kind].read_bytes()


async def test_an_exported_csv_has_the_documented_columns(db, system_actor, tmp_path):
    await seed(db, system_actor)
    path = tmp_path / "out.csv"
    seen = []

    await export_file(
        db, path, kind="customers", actor=system_actor, progress=seen.append
    )

    lines = path.read_text().splitlines()
    assert lines[0] == (
        "external_ref,email,phone,given_name,family_name,display_name,company,"
        "locale,time_zone,lifecycle_stage,tags,attributes"
    )
    assert lines[1].startswith("p-1,Ann@Example.com,,Ann,")
    assert "vip;north" in lines[1]
    assert seen == [3]
    assert not (tmp_path / "out.csv.part").exists()


async def test_interaction_lines_are_checked_one_by_one(db, system_actor, tmp_path):
    await seed(db, system_actor)
    head = "customer_external_ref,customer_email,external_ref,occurred_at,channel,"
    head += "direction,kind,amount,currency,rating\n"
    path = write(
        tmp_path / "interactions.csv",
        head
        + "p-1,,order-1,2024-03-01T09:30:00+00:00,email,inbound,purchase,19.99,EUR,\n"
        + ",bob@example.com,t-1,2024-04-01T10:00:00Z,phone,outbound,support,,,7\n"
        + "nobody,,t-2,2024-04-01T10:00:00Z,phone,outbound,support,,,\n"  # line 4
        + "p-1,,t-3,yesterday,phone,outbound,support,,,\n"  # line 5
        + "p-1,,t-4,2024-04-01T10:00:00,phone,outbound,support,,,\n"  # 6: no offset
        + "p-1,,t-5,2024-04-01T10:00:00Z,phone,outbound,purchase,,,\n"  # 7: no amount
        + "p-1,,t-6,2024-04-01T10:00:00Z,,outbound,support,,,\n"  # 8: no channel
        + "p-1,,t-7,2024-04-01T10:00:00Z,fax,outbound,support,,,\n"  # 9: bad channel
        + "p-1,,t-8,2024-04-01T10:00:00Z,phone,outbound,support,,,11\n"  # 10
        + ",,t-9,2024-04-01T10:00:00Z,phone,outbound,support,,,\n"  # 11: no customer
        + ",x@y.io,t-10,2024-04-01T10:00:00Z,phone,outbound,support,,,\n"  # archived
        + "p-3,,t-11,2024-04-02T10:00:00+02:00,web,inbound,visit,,,\n",  # 13
    )
    before = await counts(db)

    report = await import_(db, system_actor, path, kind="interactions")

    assert rejected(report) == [
        (4, "customer_external_ref", "NOT_FOUND"),
        (5, "occurred_at", "INVALID"),
        (6, "occurred_at", "INVALID"),
        (7, "amount", "REQUIRED"),
        (8, "channel", "REQUIRED"),
        (9, "channel", "INVALID"),
        (10, "rating", "OUT_OF_RANGE"),
        (11, "customer_external_ref", "REQUIRED"),
        (12, "customer_id", "ARCHIVED"),
    ]
    assert (report.read, report.created, report.unchanged) == (12, 2, 1)
    # Two interactions, each with its audit row; the failed lines left nothing.
    assert await counts(db) == [before[0], before[1] + 2, before[2] + 2]


async def test_a_line_failing_after_its_write_rolls_back_alone(
    db, system_actor, tmp_path, monkeypatch
):
    await seed(db, system_actor)

    async def log_then_fail(session, actor, customer_id, data):
        logged = await log_interaction(session, actor, customer_id, data)
        if data.get("subject") == "boom":
            raise Conflict("Lost a race after writing.")
        return logged

    monkeypatch.setattr(importer, "log_interaction", log_then_fail)
    line = '{"customer_external_ref": "p-1", "channel": "web", "direction": '
    line += '"inbound", "kind": "visit", "subject": "%s"}\n'
    path = write(
        tmp_path / "i.jsonl", "".join(line % s for s in ("ok 1", "boom", "ok 2"))
    )
    before = await counts(db)

    report = await import_(db, system_actor, path, kind="interactions")

    assert rejected(report) == [(2, None, "CONFLICT")]
    assert report.created == 2
    assert await counts(db) == [before[0], before[1] + 2, before[2] + 2]
    async with db.transaction(write=False) as session:
        subjects = await session.scalars(
            select(Interaction.subject).where(Interaction.kind == "visit")
        )
        assert sorted(subjects) == ["ok 1", "ok 2"]


async def test_progress_counts_every_record(db, system_actor, tmp_path):
    path = write(
        tmp_path / "c.csv",
        "email\n" + "".join(f"c{i}@example.com\n" for i in range(5)) + "bad\n",
    )
    seen = []

    report = await import_(db, system_actor, path, batch_size=2, progress=seen.append)

    assert seen == [2, 4, 6]  # records read so far, after each batch
    assert report.read == 6
    assert (report.created, len(report.rejected)) == (5, 1)


@pytest.mark.parametrize(
    ("actor", "error"),
    [
        (StaffActor(staff_id=1, role=StaffRole.ANALYST), Forbidden),
        (Anonymous(), Unauthenticated),
    ],
)
@pytest.mark.parametrize("kind", ["customers", "interactions"])
async def test_an_import_without_write_permission_changes_nothing(
    db, system_actor, tmp_path, actor, error, kind
):
    await seed(db, system_actor)
    path = write(
        tmp_path / "in.jsonl",
        b'{"email": "new@example.com", "customer_email": "bob@example.com",'
        b' "channel": "web", "direction": "inbound", "kind": "visit"}\n',
    )
    before = await counts(db)

    with pytest.raises(error):
        await import_(db, actor, path, kind=kind)

    assert await counts(db) == before


async def test_an_export_without_read_permission_writes_no_file(db, tmp_path):
    path = tmp_path / "out.csv"

    with pytest.raises(Unauthenticated):
        await export_file(db, path, kind="customers", actor=Anonymous())
    with pytest.raises(Forbidden):
        # Agents may not read financials, so they cannot export interactions.
        await export_file(
            db,
            path,
            kind="interactions",
            actor=StaffActor(staff_id=1, role=StaffRole.AGENT),
        )

    assert list(tmp_path.iterdir()) == []


async def test_an_unknown_file_format_is_bad_input(db, system_actor, tmp_path):
    path = write(tmp_path / "customers.xlsx", "x")

    with pytest.raises(BadInput) as raised:
        await import_(db, system_actor, path)

    assert raised.value.field == "fmt"


async def test_a_jsonl_export_holds_one_object_per_line(db, system_actor, tmp_path):
    await seed(db, system_actor)
    path = tmp_path / "i.jsonl"

    await export_file(db, path, kind="interactions", actor=system_actor)

    first = orjson.loads(path.read_bytes().splitlines()[0])
    assert first["customer_external_ref"] == "p-1"
    assert first["amount"] == "19.9900"
    assert first["occurred_at"] == "2024-03-01T09:30:00+00:00"
