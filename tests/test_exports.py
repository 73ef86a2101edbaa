"""Data exports: a customer gets a copy of their own data (JSON, or CSV in a zip),
small ones at once, large ones from the worker, through short-lived links."""

from __future__ import annotations

import asyncio
import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select, update

from crm.audit.models import AuditEvent, OutboxEvent
from crm.exports import jobs as export_jobs
from crm.exports import links, sections
from crm.exports import service as export_service
from crm.exports.files import _cell
from crm.exports.models import DataExport, DataExportFile
from crm.exports.sections import FIRM_ONLY_KEYS, ExportLeak, Part, build_document
from crm.ids import to_global_id
from tests.client import Api

EXPORT = """
mutation($input: MyDataExportInput!) {
  myDataExport(input: $input) {
    export { id format status recordCount byteSize sha256 expiresAt
             download { url expiresAt contentType } }
    json
    errors { field code message }
  }
}"""

MY_EXPORTS = """{ me { dataExports(first: 10) { totalCount nodes {
  id status format download { url contentType }
} } } }"""

STAFF_EXPORT = """
mutation($input: CustomerDataExportInput!) {
  customerDataExport(input: $input) {
    export { id status customerId reason requestedBy { kind ref label }
             download { url } }
    errors { field code message }
  }
}"""

CUSTOMER_EXPORTS = """
query($id: ID!) { customerDataExports(customerId: $id, first: 10) {
  totalCount nodes { id status downloadCount requestedBy { kind } }
} }"""

T0 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
# Firm-only keys must not appear in any spelling, anywhere in the document.
FORBIDDEN_KEYS = FIRM_ONLY_KEYS | {"visibility", "recordedBy", "recorded_by", "tags"}


def cid(pk: int) -> str:
    return to_global_id("Customer", pk)


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(keys_of(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(keys_of(v) for v in value))
    return set()


async def two_customers(api: Api) -> tuple[int, int]:
    """Ada, with two shared interactions and an internal one; Bob, with his own."""
    ada = await api.customer(
        email="ada@example.com", display_name="Ada", tags=["vip"], phone="+44 1"
    )
    bob = await api.customer(email="bob@example.com", display_name="Bob")
    for day, subject in ((1, "Order 1"), (2, "=HYPERLINK(1)")):
        await api.interaction(
            ada,
            subject=subject,
            kind="refund" if day == 2 else "purchase",
            amount="12.50" if day == 2 else "40.00",
            currency="EUR",
            cost_to_serve="3.10",
            sentiment=0.4,
            visibility="shared",
            occurred_at=T0 + timedelta(days=day),
        )
    await api.interaction(
        ada,
        subject="Churn worry",
        body="internal note about Ada",
        visibility="internal",
    )
    await api.interaction(bob, subject="Bob's order", visibility="shared")
    return ada, bob


async def export(api: Api, token: str, fmt: str = "JSON") -> dict[str, Any]:
    data = await api.data(EXPORT, {"input": {"format": fmt}}, token=token)
    return data["myDataExport"]


async def audit_actions(api: Api, action: str) -> list[AuditEvent]:
    async with api.db.transaction(write=False) as session:
        return list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == action)  # type: ignore[arg-type]
            )
        )


# --- what an export holds ---------------------------------------------------------


async def test_a_json_export_holds_the_customers_own_shared_data_and_nothing_else(
    api: Api,
):
    # Given two customers, one with an internal interaction
    ada, _ = await two_customers(api)
    token = api.customer_token(ada)

    # When Ada asks for a JSON export
    result = await export(api, token)

    # Then it is ready at once, inline, with a 15-minute link
    assert result["errors"] == []
    assert result["export"]["status"] == "READY"
    assert result["export"]["format"] == "JSON"
    document = result["json"]
    assert document["format"] == "mutual.data-export/1"
    assert document["customer"] == cid(ada)
    sections = document["sections"]
    assert list(sections)[:6] == [
        "profile",
        "interactions",
        "consents",
        "consent_history",
        "corrections",
        "access_log",
    ]
    [profile] = sections["profile"]
    assert profile["email"] == "ada@example.com" and profile["id"] == cid(ada)
    assert [i["subject"] for i in sections["interactions"]] == [
        "Order 1",
        "=HYPERLINK(1)",
    ]
    assert sections["interactions"][0]["amount"] == "40.0000"
    # Nobody else's data, no internal interaction, no firm-only measure
    text = orjson.dumps(document).decode()
    for absent in ("bob@example.com", "Bob's order", "Churn worry", "internal note"):
        assert absent not in text
    assert not keys_of(document) & FORBIDDEN_KEYS
    assert result["export"]["recordCount"] == sum(map(len, sections.values()))
    link = result["export"]["download"]
    assert link["contentType"] == "application/json"
    expires = datetime.fromisoformat(link["expiresAt"])
    assert timedelta(minutes=14) < expires - datetime.now(UTC) <= timedelta(minutes=15)

    # And the link serves the same document as a file
    response = await api.http.get(link["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-disposition"].startswith(
        'attachment; filename="my-data-'
    )
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == document
    assert len(response.content) == result["export"]["byteSize"]


async def test_a_csv_zip_export_has_one_csv_per_section_with_headers(api: Api):
    # Given a customer with shared interactions
    ada, _ = await two_customers(api)

    # When she asks for CSV files
    result = await export(api, api.customer_token(ada), "CSV_ZIP")

    # Then nothing is inline and the link serves a zip
    assert result["json"] is None
    link = result["export"]["download"]
    assert link["contentType"] == "application/zip"
    response = await api.http.get(link["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = archive.namelist()
    assert names[0] == "README.txt"
    assert {"profile.csv", "interactions.csv"} <= set(names)

    def rows(name: str) -> list[list[str]]:
        text = archive.read(name).decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text)))

    profile = rows("profile.csv")
    assert profile[0][:3] == ["id", "email", "phone"]
    # Text a spreadsheet would run as a formula is neutralised (even a phone).
    assert profile[1][:3] == [cid(ada), "ada@example.com", "'+44 1"]
    interactions = rows("interactions.csv")
    header = interactions[0]
    assert header == [
        "id",
        "occurred_at",
        "channel",
        "direction",
        "kind",
        "subject",
        "body",
        "amount",
        "currency",
        "rating",
    ]
    by_column = [dict(zip(header, row, strict=True)) for row in interactions[1:]]
    assert [r["subject"] for r in by_column] == ["Order 1", "'=HYPERLINK(1)"]
    assert [r["amount"] for r in by_column] == ["40.0000", "12.5000"]
    # Every section has its file, each with a header row
    for name in names[1:]:
        assert rows(name), f"{name} has no header"
    text = response.content + b"".join(archive.read(n) for n in names)
    assert b"bob@example.com" not in text and b"internal note" not in text


async def test_a_customer_with_no_interactions_gets_empty_sections_with_headers(
    api: Api,
):
    # Given a customer with nothing but a profile
    lone = await api.customer(display_name="Lone")

    # When they export CSV files
    result = await export(api, api.customer_token(lone), "CSV_ZIP")
    response = await api.http.get(result["export"]["download"]["url"])

    # Then the empty section still has its header row
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    text = archive.read("interactions.csv").decode("utf-8-sig")
    assert text.splitlines() == [
        "id,occurred_at,channel,direction,kind,subject,body,amount,currency,rating"
    ]


def test_csv_cells_neutralise_formulas_but_keep_numbers_and_nest_json():
    assert [_cell(v) for v in ("-12.50", "+3", "-x", "@a", 5, -2, None, True)] == [
        "-12.50",
        "+3",
        "'-x",
        "'@a",
        "5",
        "-2",
        "",
        "true",
    ]
    assert _cell({"a": [1]}) == '{"a":[1]}'


# --- background preparation -------------------------------------------------------


async def test_a_large_export_is_queued_prepared_by_the_worker_then_downloadable(
    api: Api, monkeypatch: pytest.MonkeyPatch
):
    # Given a customer whose export counts as large
    ada, _ = await two_customers(api)
    token = api.customer_token(ada)
    monkeypatch.setattr(export_service, "SYNC_RECORD_LIMIT", 0)

    # When she asks for it, twice
    first = await export(api, token)
    again = await export(api, token)

    # Then it is queued once, without a link
    assert first["export"]["status"] == "PENDING"
    assert first["export"]["download"] is None and first["json"] is None
    assert again["export"]["id"] == first["export"]["id"]
    assert await api.count(DataExport) == 1

    # When the worker runs
    assert await export_jobs.prepare_pending_exports(api.db) == 1
    assert await export_jobs.prepare_pending_exports(api.db) == 0

    # Then the export is ready in her list, and its link serves the document
    listed = (await api.data(MY_EXPORTS, token=token))["me"]["dataExports"]
    assert listed["totalCount"] == 1
    [node] = listed["nodes"]
    assert node["id"] == first["export"]["id"] and node["status"] == "READY"
    response = await api.http.get(node["download"]["url"])
    assert response.status_code == 200
    sections = response.json()["sections"]
    assert [i["subject"] for i in sections["interactions"]] == [
        "Order 1",
        "=HYPERLINK(1)",
    ]
    # And the firm's messaging system is told the export is ready
    async with api.db.transaction(write=False) as session:
        topics = list(
            await session.scalars(
                select(OutboxEvent.topic).where(  # type: ignore[call-overload]
                    OutboxEvent.topic == "customer.data_export_ready"  # type: ignore[arg-type]
                )
            )
        )
    assert topics == ["customer.data_export_ready"]


async def test_several_workers_prepare_each_queued_export_exactly_once(
    api: Api, monkeypatch: pytest.MonkeyPatch
):
    # Given three queued exports of three customers
    monkeypatch.setattr(export_service, "SYNC_RECORD_LIMIT", -1)
    customers = [await api.customer(display_name=f"C{i}") for i in range(3)]
    for customer in customers:
        queued = await export(api, api.customer_token(customer), "CSV_ZIP")
        assert queued["export"]["status"] == "PENDING"

    # When three workers run at once
    done = await asyncio.gather(
        *(export_jobs.prepare_pending_exports(api.db, limit=5) for _ in range(3))
    )

    # Then each export was prepared once
    assert sum(done) == 3
    async with api.db.transaction(write=False) as session:
        exports = list(await session.scalars(select(DataExport)))
    assert {e.status for e in exports} == {"ready"}
    assert {e.attempts for e in exports} == {1}
    assert await api.count(DataExportFile) == 3


async def test_an_export_that_keeps_failing_is_marked_failed_and_others_proceed(
    api: Api, monkeypatch: pytest.MonkeyPatch
):
    # Given two queued exports, and a part that fails for the first customer
    monkeypatch.setattr(export_service, "SYNC_RECORD_LIMIT", -1)
    broken = await api.customer(display_name="Broken")
    fine = await api.customer(display_name="Fine")
    for customer in (broken, fine):
        await export(api, api.customer_token(customer))

    async def flaky(session: Any, customer_id: int) -> dict[str, list[Any]]:
        if customer_id == broken:
            raise RuntimeError("storage hiccup")
        return {"extra": []}

    monkeypatch.setattr(sections, "PARTS", (*sections.PARTS, Part("flaky", flaky)))

    # When the worker runs three times
    prepared = [await export_jobs.prepare_pending_exports(api.db) for _ in range(3)]

    # Then the good export is ready, the broken one failed after three tries
    assert prepared == [1, 0, 0]
    async with api.db.transaction(write=False) as session:
        rows = {
            e.customer_id: (e.status, e.attempts, e.error)
            for e in await session.scalars(select(DataExport))
        }
    assert rows == {
        fine: ("ready", 1, None),
        broken: ("failed", 3, "RuntimeError"),
    }
    listed = await api.data(MY_EXPORTS, token=api.customer_token(broken))
    assert [n["status"] for n in listed["me"]["dataExports"]["nodes"]] == ["FAILED"]
    # And the customer may ask again
    again = await export(api, api.customer_token(broken))
    assert again["errors"] == [] and again["export"]["status"] == "PENDING"


async def test_a_part_returning_a_firm_only_key_is_refused(db: Any):
    async def leaky(session: Any, customer_id: int) -> dict[str, list[Any]]:
        return {"leaky": [{"note": {"cost_to_serve": "1.00"}}]}

    async with db.transaction(write=False) as session:
        with pytest.raises(ExportLeak):
            await build_document(session, 1, (Part("leaky", leaky),))


# --- links ------------------------------------------------------------------------


async def test_an_expired_link_is_gone_and_a_forged_one_is_not_found(api: Api):
    # Given a ready export
    ada, _ = await two_customers(api)
    token = api.customer_token(ada)
    await export(api, token)
    export_id = await _only_export_id(api)
    signer = api.app.state.signer

    # When the link is past its 15 minutes
    old = links.issue_link(
        signer,
        export_id=export_id,
        customer_id=ada,
        holder=f"customer:{ada}",
        issued_at=datetime.now(UTC) - timedelta(minutes=16),
    )
    gone = await api.http.get(f"/exports/{old.token}")

    # Then it is 410 with a JSON body
    assert gone.status_code == 410
    assert gone.json()["error"]["code"] == "GONE"

    # And a forged token, a sign-in token or garbage is 404
    for bad in (old.token[:-4] + "AAAA", token, "not-a-token", "x" * 3000):
        response = await api.http.get(f"/exports/{bad}")
        assert response.status_code == 404, bad
        assert response.json()["error"]["code"] == "NOT_FOUND"
    # Other methods are refused, never served
    assert (await api.http.post(f"/exports/{old.token}")).status_code == 405


async def _only_export_id(api: Api) -> int:
    async with api.db.transaction(write=False) as session:
        ids = list(await session.scalars(select(DataExport.id)))  # type: ignore[call-overload]
    assert len(ids) == 1
    return int(ids[0])


async def test_another_customer_cannot_download_an_export(api: Api):
    # Given Ada's ready export
    ada, bob = await two_customers(api)
    await export(api, api.customer_token(ada))
    export_id = await _only_export_id(api)
    signer = api.app.state.signer

    # When a link names Ada's export for Bob, or is issued to Bob
    for customer_id, holder in ((bob, f"customer:{ada}"), (ada, f"customer:{bob}")):
        link = links.issue_link(
            signer, export_id=export_id, customer_id=customer_id, holder=holder
        )
        response = await api.http.get(f"/exports/{link.token}")
        # Then it is not found, exactly like a missing export
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"

    # And Bob's own list does not show it
    listed = await api.data(MY_EXPORTS, token=api.customer_token(bob))
    assert listed["me"]["dataExports"]["totalCount"] == 0
    # And no download was counted
    assert await audit_actions(api, "customer.data_export_downloaded") == []


async def test_a_file_past_its_retention_is_deleted_and_its_link_is_gone(api: Api):
    # Given a ready export and a link to it
    ada, _ = await two_customers(api)
    token = api.customer_token(ada)
    link = (await export(api, token))["export"]["download"]["url"]

    # When its retention ends and the worker cleans up
    async with api.db.transaction() as session:
        await session.execute(
            update(DataExport).values(expires_at=datetime.now(UTC) - timedelta(hours=1))
        )
    assert await export_jobs.purge_expired_exports(api.db) == 1

    # Then the file is deleted, the request stays on record, and the link is gone
    assert await api.count(DataExportFile) == 0
    listed = (await api.data(MY_EXPORTS, token=token))["me"]["dataExports"]
    assert [(n["status"], n["download"]) for n in listed["nodes"]] == [
        ("EXPIRED", None)
    ]
    response = await api.http.get(link)
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "GONE"
    assert await export_jobs.purge_expired_exports(api.db) == 0


# --- who may ask ------------------------------------------------------------------


async def test_only_a_signed_in_customer_may_call_my_data_export(api: Api):
    # Given staff of every role, a partner app with every scope, and no one
    await two_customers(api)
    callers = [(await api.staff(role))[1] for role in ("admin", "manager", "agent")]
    callers.append(
        await api.partner_key(
            ["customers:read", "interactions:read", "consents:read", "segments:read"]
        )
    )
    before = await api.count(AuditEvent)

    # When they call myDataExport, then they are refused and nothing is written
    for token in callers:
        code = await api.error_code(EXPORT, {"input": {"format": "JSON"}}, token=token)
        assert code == "FORBIDDEN"
    code = await api.error_code(EXPORT, {"input": {"format": "JSON"}})
    assert code == "UNAUTHENTICATED"
    assert await api.count(DataExport) == 0
    assert await api.count(AuditEvent) == before


async def test_a_customer_gets_at_most_five_exports_a_day(api: Api):
    # Given a customer who asked five times today
    ada, _ = await two_customers(api)
    token = api.customer_token(ada)
    for fmt in ("JSON", "CSV_ZIP", "JSON", "CSV_ZIP", "JSON"):
        assert (await export(api, token, fmt))["export"]["status"] == "READY"

    # When she asks a sixth time
    refused = await export(api, token)

    # Then it is refused with RATE_LIMITED and nothing is written
    assert refused["export"] is None
    assert [e["code"] for e in refused["errors"]] == ["RATE_LIMITED"]
    assert await api.count(DataExport) == 5
    assert len(await audit_actions(api, "customer.data_export_requested")) == 5


async def test_every_request_and_download_is_audited_on_the_customer_record(
    api: Api,
):
    # Given a customer's export
    ada, _ = await two_customers(api)
    link = (await export(api, api.customer_token(ada)))["export"]["download"]["url"]

    # When the file is fetched twice
    for _ in range(2):
        assert (await api.http.get(link)).status_code == 200

    # Then the request and both downloads are on the customer's audit trail
    [requested] = await audit_actions(api, "customer.data_export_requested")
    downloads = await audit_actions(api, "customer.data_export_downloaded")
    assert len(downloads) == 2
    for event in (requested, *downloads):
        assert (event.entity_type, event.entity_id) == ("Customer", ada)
        assert event.actor_ref == f"customer:{ada}"
    async with api.db.transaction(write=False) as session:
        count = await session.scalar(select(func.sum(DataExport.download_count)))  # type: ignore[arg-type]
    assert count == 2


async def test_staff_take_a_request_made_by_phone_with_a_reason(api: Api):
    # Given a customer and an agent
    ada, _ = await two_customers(api)
    _, agent = await api.staff("agent")
    variables = {
        "input": {"customerId": cid(ada), "format": "CSV_ZIP", "reason": "By phone"}
    }

    # When the agent takes the request
    data = await api.data(STAFF_EXPORT, variables, token=agent)

    # Then the export is ready, says who took it and why, and is audited
    payload = data["customerDataExport"]
    assert payload["errors"] == []
    made = payload["export"]
    assert made["status"] == "READY" and made["reason"] == "By phone"
    assert made["customerId"] == cid(ada)
    assert made["requestedBy"]["kind"] == "staff"
    [event] = await audit_actions(api, "customer.data_export_requested")
    assert event.actor_kind == "staff" and event.entity_id == ada
    assert event.changes["reason"]["after"] == "By phone"
    # The agent's link works, and the download is audited as the agent's
    assert (await api.http.get(made["download"]["url"])).status_code == 200
    [download] = await audit_actions(api, "customer.data_export_downloaded")
    assert download.actor_kind == "staff"
    # The customer sees it in their own list, and the firm in the customer's
    mine = await api.data(MY_EXPORTS, token=api.customer_token(ada))
    assert mine["me"]["dataExports"]["nodes"][0]["id"] == made["id"]
    # The customer's next export shows the agent in its access log
    later = await export(api, api.customer_token(ada))
    actions = {e["action"] for e in later["json"]["sections"]["access_log"]}
    assert {
        "customer.data_export_requested",
        "customer.data_export_downloaded",
    } <= actions
    firm = await api.data(CUSTOMER_EXPORTS, {"id": cid(ada)}, token=agent)
    nodes = firm["customerDataExports"]["nodes"]
    assert [n["requestedBy"]["kind"] for n in nodes] == ["customer", "staff"]
    assert nodes[1] == {
        "id": made["id"],
        "status": "READY",
        "downloadCount": 1,
        "requestedBy": {"kind": "staff"},
    }


async def test_a_staff_request_needs_a_reason_and_a_known_customer(api: Api):
    # Given an agent
    ada, _ = await two_customers(api)
    _, agent = await api.staff("agent")

    # When the reason is blank, then REQUIRED and nothing is written
    blank = {"input": {"customerId": cid(ada), "format": "JSON", "reason": "  "}}
    payload = (await api.data(STAFF_EXPORT, blank, token=agent))["customerDataExport"]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [
        ("reason", "REQUIRED")
    ]
    # When the customer does not exist, then NOT_FOUND
    missing = {"input": {"customerId": cid(99999), "format": "JSON", "reason": "x"}}
    assert await api.error_code(STAFF_EXPORT, missing, token=agent) == "NOT_FOUND"
    # When the ID is not a customer's, then BAD_USER_INPUT
    wrong = {"input": {"customerId": "nope", "format": "JSON", "reason": "x"}}
    assert await api.error_code(STAFF_EXPORT, wrong, token=agent) == "BAD_USER_INPUT"
    # A partner app, whatever its scopes, may not take one
    partner = await api.partner_key(
        ["customers:read", "interactions:read", "consents:read", "segments:read"]
    )
    ok = {"input": {"customerId": cid(ada), "format": "JSON", "reason": "x"}}
    assert await api.error_code(STAFF_EXPORT, ok, token=partner) == "FORBIDDEN"
    assert await api.count(DataExport) == 0


async def test_a_staff_link_stops_working_when_the_account_is_archived(api: Api):
    # Given an agent's link to a customer's export
    ada, _ = await two_customers(api)
    agent_id, agent = await api.staff("agent")
    variables = {"input": {"customerId": cid(ada), "format": "JSON", "reason": "x"}}
    data = await api.data(STAFF_EXPORT, variables, token=agent)
    url = data["customerDataExport"]["export"]["download"]["url"]

    # When the agent's account is archived
    from crm.staff.models import StaffMember

    async with api.db.transaction() as session:
        await session.execute(
            update(StaffMember)
            .where(StaffMember.id == agent_id)  # type: ignore[arg-type]
            .values(archived_at=datetime.now(UTC))
        )

    # Then the link finds nothing
    assert (await api.http.get(url)).status_code == 404


SEGMENT_CREATE = """
mutation($input: SegmentCreateInput!) {
  segmentCreate(input: $input) { segment { id } errors { field code } }
}
"""
SEGMENT_ADD = """
mutation($input: SegmentMembersInput!) {
  segmentMembersAdd(input: $input) { errors { field code } }
}
"""


async def test_an_export_lists_visible_segments_under_their_customer_names_only(
    api: Api,
):
    # Given Ada in a segment shown to customers and in a hidden one
    ada, _ = await two_customers(api)
    _, admin = await api.staff("admin")
    segments = {}
    for name, visible in (("Gold tier (internal)", True), ("Churn watch", False)):
        extra = {"customerName": "Gold", "customerDescription": "Our best"}
        created = await api.data(
            SEGMENT_CREATE,
            {
                "input": {
                    "name": name,
                    "kind": "STATIC",
                    "customerVisible": visible,
                    **(extra if visible else {}),
                }
            },
            token=admin,
        )
        assert created["segmentCreate"]["errors"] == []
        segments[name] = created["segmentCreate"]["segment"]["id"]
        added = await api.data(
            SEGMENT_ADD,
            {"input": {"segmentId": segments[name], "customerIds": [cid(ada)]}},
            token=admin,
        )
        assert added["segmentMembersAdd"]["errors"] == []

    # When Ada exports her data
    document = (await export(api, api.customer_token(ada)))["json"]

    # Then the visible segment appears under the name customers see, nothing else
    [segment] = document["sections"]["segments"]
    assert segment["name"] == "Gold" and segment["description"] == "Our best"
    assert segment["joined_at"]
    text = orjson.dumps(document).decode()
    for absent in ("Gold tier (internal)", "Churn watch", *segments.values()):
        assert absent not in text
