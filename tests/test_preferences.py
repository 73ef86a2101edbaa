"""Contact preferences (channel, frequency, language), set by the customer or by
staff, and the customer filters over consent and preferences that segments and
partners use to reach only contactable customers."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from crm.actors import PartnerActor, StaffActor
from crm.audit.models import AuditEvent
from crm.consent.filters import CONSENT_FILTERS
from crm.consent.models import ContactPreference
from crm.customers.filters import CUSTOMER_SPEC
from crm.customers.models import Customer
from crm.errors import BadInput, Forbidden
from crm.filtering import EntitySpec, compile_where
from crm.ids import to_global_id
from crm.permissions import Scope, StaffRole

MINE = """mutation($input: MyPreferencesSetInput!) { myPreferencesSet(input: $input) {
  preferences { preferredChannel contactFrequency language updatedAt }
  errors { field code message } } }"""
STAFF = """mutation($input: CustomerPreferencesSetInput!) {
  customerPreferencesSet(input: $input) {
    preferences { preferredChannel contactFrequency language }
    errors { field code message } } }"""
READ_MINE = "{ me { preferences { preferredChannel contactFrequency language } } }"
READ_FIRM = """query($id: ID!) { customer(id: $id) {
  preferences { preferredChannel contactFrequency language } } }"""
CONSENT = """mutation($input: MyConsentSetInput!) { myConsentSet(input: $input) {
  errors { code } } }"""


def cid(pk: int) -> str:
    return to_global_id("Customer", pk)


async def test_a_customer_states_and_changes_their_preferences(api):
    me = await api.customer(email="pref@example.com")
    token = api.customer_token(me)
    # Never stated: all null
    assert (await api.data(READ_MINE, token=token))["me"]["preferences"] == {
        "preferredChannel": None,
        "contactFrequency": None,
        "language": None,
    }
    first = await api.data(
        MINE,
        {
            "input": {
                "preferredChannel": "SMS",
                "contactFrequency": "MONTHLY",
                "language": "fr-CA",
            }
        },
        token=token,
    )
    assert first["myPreferencesSet"]["errors"] == []
    # Omitted fields stay; null clears
    second = await api.data(
        MINE, {"input": {"contactFrequency": "NEVER", "language": None}}, token=token
    )
    assert second["myPreferencesSet"]["preferences"]["preferredChannel"] == "SMS"
    _, staff = await api.staff("analyst")
    firm = await api.data(READ_FIRM, {"id": cid(me)}, token=staff)
    assert firm["customer"]["preferences"] == {
        "preferredChannel": "SMS",
        "contactFrequency": "NEVER",
        "language": None,
    }
    async with api.db.transaction(write=False) as session:
        changes = (
            await session.scalars(
                select(AuditEvent.changes)
                .where(AuditEvent.action == "preferences.changed")
                .order_by(AuditEvent.id)
            )
        ).all()
    assert changes[1] == {
        "preferences.contact_frequency": {"before": "monthly", "after": "never"},
        "preferences.language": {"before": "fr-CA", "after": None},
    }


async def test_bad_preferences_are_payload_errors_and_change_nothing(api):
    me = await api.customer(email="badpref@example.com")
    token = api.customer_token(me)
    data = await api.data(MINE, {"input": {"language": "not a language!"}}, token=token)
    errors = data["myPreferencesSet"]["errors"]
    assert [(e["field"], e["code"]) for e in errors] == [("language", "INVALID")]
    empty = await api.data(MINE, {"input": {}}, token=token)
    assert [e["code"] for e in empty["myPreferencesSet"]["errors"]] == ["REQUIRED"]
    assert await api.count(ContactPreference) == 0


async def test_staff_with_customer_write_note_preferences_others_may_not(api):
    me = await api.customer(email="told@example.com")
    _, agent = await api.staff("agent")
    variables = {"input": {"customerId": cid(me), "preferredChannel": "POST"}}
    data = await api.data(STAFF, variables, token=agent)
    assert data["customerPreferencesSet"]["preferences"]["preferredChannel"] == "POST"
    _, analyst = await api.staff("analyst")
    again = {"input": {"customerId": cid(me), "preferredChannel": "EMAIL"}}
    assert await api.error_code(STAFF, again, token=analyst) == "FORBIDDEN"
    customer = api.customer_token(me)
    assert await api.error_code(STAFF, again, token=customer) == "FORBIDDEN"
    assert await api.error_code(MINE, {"input": {"language": "en"}}, token=agent) == (
        "FORBIDDEN"
    )
    missing = {"input": {"customerId": cid(me + 99), "preferredChannel": "EMAIL"}}
    assert await api.error_code(STAFF, missing, token=agent) == "NOT_FOUND"
    async with api.db.transaction(write=False) as session:
        row = await session.get(ContactPreference, me)
    assert row is not None and row.preferred_channel == "post"


# --- filters (crm level: CUSTOMER_SPEC with the consent hooks added) -------------

SPEC = EntitySpec(
    name="Customer",
    model=lambda: Customer,
    fields=CUSTOMER_SPEC.fields,
    relations=CUSTOMER_SPEC.relations,
    custom={**CUSTOMER_SPEC.custom, **CONSENT_FILTERS},
)
MANAGER = StaffActor(staff_id=1, role=StaffRole.MANAGER)


async def matching(api, where: dict[str, Any], actor: Any = MANAGER) -> set[str]:
    async with api.db.transaction(write=False) as session:
        found = await session.scalars(
            select(Customer.email).where(compile_where(SPEC, where, actor))
        )
        return set(found)


async def contactable_world(api) -> dict[str, int]:
    people = {
        name: await api.customer(email=f"{name}@example.com")
        for name in ("optin", "optout", "silent", "never", "profiled")
    }

    async def decide(name: str, **input_: Any) -> None:
        data = await api.data(
            CONSENT, {"input": input_}, token=api.customer_token(people[name])
        )
        assert data["myConsentSet"]["errors"] == []

    async def prefer(name: str, **input_: Any) -> None:
        data = await api.data(
            MINE, {"input": input_}, token=api.customer_token(people[name])
        )
        assert data["myPreferencesSet"]["errors"] == []

    await decide("optin", purpose="MARKETING", channel="EMAIL", granted=True)
    await decide("never", purpose="MARKETING", channel="ANY", granted=True)
    await decide("optout", purpose="MARKETING", channel="ANY", granted=True)
    await decide("optout", purpose="MARKETING", channel="EMAIL", granted=False)
    await decide("profiled", purpose="PROFILING", granted=False)
    await prefer("never", contactFrequency="NEVER")
    await prefer("optin", language="fr-CA", preferredChannel="EMAIL")
    return people


async def test_consent_filters_apply_defaults_and_channel_rules(api):
    await contactable_world(api)
    email = {"consent": {"purpose": "marketing", "channel": "email"}}
    assert await matching(api, email) == {"optin@example.com", "never@example.com"}
    not_email = {
        "consent": {"purpose": "marketing", "channel": "email", "granted": False}
    }
    assert await matching(api, not_email) == {
        "optout@example.com",
        "silent@example.com",
        "profiled@example.com",
    }
    sms = {"consent": {"purpose": "marketing", "channel": "sms"}}
    assert await matching(api, sms) == {"never@example.com", "optout@example.com"}
    profiling = {"consent": {"purpose": "profiling", "granted": False}}
    assert await matching(api, profiling) == {"profiled@example.com"}


async def test_marketing_segments_target_only_contactable_customers(api):
    await contactable_world(api)
    contactable = {
        "consent": {"purpose": "marketing", "channel": "email"},
        "preferences": {"contact_frequency": {"neq": "never"}},
    }
    assert await matching(api, contactable) == {"optin@example.com"}
    french = {"preferences": {"language": {"starts_with": "fr"}}}
    assert await matching(api, french) == {"optin@example.com"}
    unstated = {"preferences": {"preferred_channel": {"is_null": True}}}
    assert len(await matching(api, unstated)) == 4


async def test_consent_filters_need_the_right_to_read_consents(api):
    await api.customer(email="x@example.com")
    key = PartnerActor(
        partner_id=1, key_id=1, name="p", scopes=frozenset({Scope.CUSTOMERS_READ})
    )
    where = {"consent": {"purpose": "marketing", "channel": "email"}}
    with pytest.raises(Forbidden):
        await matching(api, where, key)
    with_consents = PartnerActor(
        partner_id=1,
        key_id=1,
        name="p",
        scopes=frozenset({Scope.CUSTOMERS_READ, Scope.CONSENTS_READ}),
    )
    assert await matching(api, where, with_consents) == set()
    # Preferences are contact data: reading customers is enough
    assert await matching(api, {"preferences": {"language": {"is_null": True}}}, key)
    for bad in (
        {"consent": {"purpose": "spam"}},
        {"consent": {"channel": "email"}},
        {"consent": {"purpose": "profiling", "channel": "sms"}},
        {"consent": {"purpose": "marketing", "granted": "yes"}},
        {"preferences": {"contact_frequency": {"eq": "hourly"}}},
    ):
        with pytest.raises(BadInput):
            await matching(api, bad)
