"""Sibling fields resolve concurrently; their statements take turns on one session."""

from __future__ import annotations

from crm.ids import to_global_id


async def test_many_aliased_lookups_in_one_request_all_answer(api):
    _, token = await api.staff("manager")
    customer = await api.customer(email="c@example.com")
    ids = [await api.interaction(customer, subject=f"s{i}") for i in range(4)]
    fields = " ".join(
        f'i{n}: interaction(id: "{to_global_id("Interaction", i)}") {{ subject }} '
        f'c{n}: customer(id: "{to_global_id("Customer", customer)}") {{ email }}'
        for n, i in enumerate(ids)
    )
    data = await api.data(f"{{ {fields} }}", token=token)
    assert [data[f"i{n}"]["subject"] for n in range(4)] == ["s0", "s1", "s2", "s3"]
    assert {data[f"c{n}"]["email"] for n in range(4)} == {"c@example.com"}
