"""customers(search:): prefixes, typos, accents, ranking, and paging through hits."""

from __future__ import annotations

from typing import Any

from crm.customers import search as search_module
from crm.customers import service as customer_service
from crm.ids import to_global_id
from tests.client import SYSTEM

SEARCH = """
query($search: String, $where: CustomerWhere, $orderBy: CustomerOrder,
      $first: Int, $after: String, $last: Int, $before: String) {
  customers(search: $search, where: $where, orderBy: $orderBy,
            first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { displayName } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def seed(api, *people: dict[str, Any]) -> list[int]:
    """Customers created in order, in one transaction."""
    ids = []
    async with api.db.transaction() as session:
        for fields in people:
            customer = await customer_service.create_customer(session, SYSTEM, fields)
            assert customer.id is not None
            ids.append(customer.id)
    return ids


def person(given: str, family: str | None = None, **fields: Any) -> dict[str, Any]:
    return {"given_name": given, "family_name": family, **fields}


async def search(api, token: str, text: str | None, **variables: Any) -> list[str]:
    """Display names found, in order; totalCount must agree (first page only)."""
    data = await api.data(
        SEARCH, {"search": text, "first": 100, **variables}, token=token
    )
    found = [e["node"]["displayName"] for e in data["customers"]["edges"]]
    assert data["customers"]["totalCount"] == len(found)
    return found


PEOPLE = [
    person("Adaline", "Hart"),
    person("Ada", "Lovelace", email="ada@analytical.test", company="Engines Ltd"),
    person("Ada", "Smith"),
    person("Grace", "Smith", company="Initech"),
    person("José", "Núñez"),
    person("John", "Carter"),
    person("Bob", "Stone", email="billing.dept@globex.test"),
]


async def test_a_word_prefix_finds_longer_names(api):
    _, token = await api.staff("analyst")
    await seed(api, *PEOPLE)
    assert await search(api, token, "adali") == ["Adaline Hart"]
    # "adal" is also "ada" mistyped, but the word it starts comes first
    assert (await search(api, token, "adal"))[0] == "Adaline Hart"
    assert set(await search(api, token, "ada")) == {
        "Adaline Hart",
        "Ada Lovelace",
        "Ada Smith",
    }
    assert set(await search(api, token, "ADA")) == set(await search(api, token, "ada"))


async def test_every_word_must_match(api):
    _, token = await api.staff("analyst")
    await seed(api, *PEOPLE)
    assert await search(api, token, "ada smith") == ["Ada Smith"]
    assert await search(api, token, "smith ada") == ["Ada Smith"]
    assert await search(api, token, "grace smith") == ["Grace Smith"]
    assert await search(api, token, "ada zzzzzz") == []


async def test_email_and_company_are_searched(api):
    _, token = await api.staff("analyst")
    await seed(api, *PEOPLE)
    assert await search(api, token, "globex") == ["Bob Stone"]
    assert await search(api, token, "billing") == ["Bob Stone"]
    assert await search(api, token, "billing.dept@globex.test") == ["Bob Stone"]
    assert await search(api, token, "analytical") == ["Ada Lovelace"]
    assert await search(api, token, "initech") == ["Grace Smith"]
    assert await search(api, token, "init") == ["Grace Smith"]
    assert await search(api, token, "engines ada") == ["Ada Lovelace"]


async def test_accents_are_folded_both_ways(api):
    _, token = await api.staff("analyst")
    await seed(api, *PEOPLE)
    for text in ("jose", "José", "JOSE", "nunez", "Núñez", "jose nunez"):
        assert await search(api, token, text) == ["José Núñez"], text


async def test_small_typos_still_match(api):
    _, token = await api.staff("analyst")
    await seed(api, *PEOPLE)
    assert "John Carter" in await search(api, token, "jonh")
    assert "John Carter" in await search(api, token, "jonh cartre")
    assert set(await search(api, token, "smiht")) == {"Ada Smith", "Grace Smith"}
    assert "Ada Lovelace" in await search(api, token, "lovelcae")
    # but a different word is not a typo, nor is a wrong first letter
    assert await search(api, token, "oldfield") == []
    assert await search(api, token, "kohn") == []
    assert await search(api, token, "jose carter") == []
    # and short words must match as they are
    assert await search(api, token, "jo") == ["José Núñez", "John Carter"]
    assert await search(api, token, "jno") == []


async def test_exact_words_rank_before_prefixes_and_typos(api):
    _, token = await api.staff("analyst")
    await seed(
        api,
        person("Johnny", "Walker"),
        person("Jonh", "Wilkes"),
        person("John", "Wayne"),
    )
    found = await search(api, token, "john")
    assert found[0] == "John Wayne"
    assert "Johnny Walker" in found
    found = await search(api, token, "ada lovelace")
    assert found == []
    await seed(api, person("Ada", "Lovelock"), person("Ada", "Lovelace"))
    found = await search(api, token, "ada lovelace")
    assert found[0] == "Ada Lovelace"


async def test_search_with_a_filter_and_an_order(api):
    _, token = await api.staff("analyst")
    await seed(
        api,
        person("Zoe", "Smith", tags=["vip"]),
        person("Amy", "Smith", tags=["vip"]),
        person("Kim", "Smith"),
        person("Amy", "Jones", tags=["vip"]),
    )
    found = await search(
        api,
        token,
        "smith",
        where={"tags": {"has": "vip"}},
        orderBy={"field": "DISPLAY_NAME", "direction": "ASC"},
    )
    assert found == ["Amy Smith", "Zoe Smith"]
    found = await search(
        api, token, "smith", orderBy={"field": "DISPLAY_NAME", "direction": "DESC"}
    )
    assert found == ["Zoe Smith", "Kim Smith", "Amy Smith"]
    # and its pages follow the order too
    order = {"field": "DISPLAY_NAME", "direction": "ASC"}
    first = await api.data(
        SEARCH, {"search": "smith", "orderBy": order, "first": 2}, token=token
    )
    rest = await api.data(
        SEARCH,
        {
            "search": "smith",
            "orderBy": order,
            "first": 2,
            "after": first["customers"]["pageInfo"]["endCursor"],
        },
        token=token,
    )
    assert [
        e["node"]["displayName"]
        for page in (first, rest)
        for e in page["customers"]["edges"]
    ] == ["Amy Smith", "Kim Smith", "Zoe Smith"]
    assert rest["customers"]["pageInfo"]["hasNextPage"] is False


async def test_a_search_without_words_is_no_search(api):
    # given customers in creation order
    _, token = await api.staff("analyst")
    await seed(api, *PEOPLE)
    everyone = [f"{p['given_name']} {p['family_name']}" for p in PEOPLE]
    assert await search(api, token, None) == everyone
    # when the search holds no searchable word, then it filters nothing
    for text in ("", "   ", "\t\n", "!!!", "@#$%^&*()", '"', "'", "-", "*", "..."):
        assert await search(api, token, text) == everyone, repr(text)


async def test_search_syntax_characters_are_plain_text(api):
    _, token = await api.staff("analyst")
    await seed(api, *PEOPLE)
    for text in (
        'ada"',
        "ada*",
        "(ada",
        "ada)",
        "^ada",
        "-ada",
        "+ada",
        "ada:",
        "ada & smith",
        "ada | smith",
        "!ada smith",
        "ada <-> smith",
        "ada (smith)",
    ):
        found = await search(api, token, text)
        assert "Ada Smith" in found, text
    # operators of either engine are plain words, which must match too
    assert await search(api, token, "ada OR bob") == []
    assert await search(api, token, "ada AND smith") == []
    assert await search(api, token, "and") == []
    assert await search(api, token, "or not near") == []


async def test_an_over_long_search_is_bad_user_input(api):
    _, token = await api.staff("analyst")
    await seed(api, *PEOPLE)
    body = await api.gql(SEARCH, {"search": "a" * 201}, token=token)
    assert body["data"] is None
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "BAD_USER_INPUT", "field": "search"}
    ]
    assert await search(api, token, "ada " * 50) == await search(api, token, "ada")
    assert await search(api, token, " " * 150 + "ada smith") == ["Ada Smith"]


async def test_paging_through_search_hits_has_no_duplicates_or_gaps(api):
    # given 25 customers matching "smith" with various ranks, and others
    _, token = await api.staff("analyst")
    people = []
    for i in range(25):
        family = ("Smith", "Smithson", "Smithers Smith", "Smiht")[i % 4]
        people.append(person(f"P{i:02d}", family, company="Smith & Co" * (i % 3)))
    people += [person(f"Other{i}", "Jones") for i in range(5)]
    await seed(api, *people)
    everything = await search(api, token, "smith")
    assert len(everything) == 25
    # when paging forward 7 at a time
    seen: list[str] = []
    after = None
    while True:
        data = await api.data(
            SEARCH, {"search": "smith", "first": 7, "after": after}, token=token
        )
        page = data["customers"]
        seen += [e["node"]["displayName"] for e in page["edges"]]
        assert page["totalCount"] == 25
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then every hit comes once, in rank order
    assert seen == everything
    # and paging backward from the end gives the same order
    seen = []
    before = None
    while True:
        data = await api.data(
            SEARCH, {"search": "smith", "last": 6, "before": before}, token=token
        )
        page = data["customers"]
        seen = [e["node"]["displayName"] for e in page["edges"]] + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == everything


async def test_renaming_a_customer_updates_what_search_finds(api):
    _, token = await api.staff("agent")
    (customer,) = await seed(api, person("Oldfield", "Marsh"))
    assert await search(api, token, "oldfield") == ["Oldfield Marsh"]
    data = await api.data(
        """mutation($input: CustomerUpdateInput!) {
          customerUpdate(input: $input) { customer { displayName } errors { code } }
        }""",
        {
            "input": {
                "id": to_global_id("Customer", customer),
                "givenName": "Newfield",
                "displayName": None,
            }
        },
        token=token,
    )
    assert data["customerUpdate"] == {
        "customer": {"displayName": "Newfield Marsh"},
        "errors": [],
    }
    assert await search(api, token, "oldfield") == []
    assert await search(api, token, "newfield") == ["Newfield Marsh"]
    assert await search(api, token, "marsh") == ["Newfield Marsh"]


async def test_archived_customers_are_not_found_unless_asked_for(api):
    _, token = await api.staff("analyst")
    kept, gone = await seed(api, person("Ada", "Kept"), person("Ada", "Gone"))
    async with api.db.transaction() as session:
        await customer_service.archive_customer(session, SYSTEM, gone, archived=True)
    assert await search(api, token, "ada") == ["Ada Kept"]
    assert await search(api, token, "gone") == []
    found = await search(api, token, "ada", where={"archived": {"eq": True}})
    assert found == ["Ada Gone"]
    assert kept != gone


def test_one_edit_patterns_find_exactly_the_words_one_edit_away():
    # The SQL patterns (PostgreSQL) and the edit distance (both databases) agree:
    # a word one edit from the term, or starting with a word of the term's length
    # one edit away (a typo in a prefix), with the same first letter.
    import itertools
    import re

    def like(pattern: str) -> re.Pattern[str]:
        return re.compile(
            "".join(".*" if c == "%" else "." if c == "_" else c for c in pattern)
            + r"\Z"
        )

    alphabet = "abms"
    for term in ("mari", "smith", "abab"):
        patterns = [like(p) for p in search_module.one_edit_patterns(term)]
        n = len(term)
        for size in range(n - 1, n + 3):
            for letters in itertools.product(alphabet, repeat=size - 1):
                word = term[0] + "".join(letters)
                close = search_module.edit_distance_at_most(
                    term, word, 1
                ) or search_module.edit_distance_at_most(term, word[:n], 1)
                matched = any(p.match(word) for p in patterns)
                assert matched == close, (term, word)


async def test_the_word_tables_follow_every_write(api, db):
    # PostgreSQL searches a word table kept by triggers on customer; SQLite's
    # FTS5 index is kept the same way (and checked by the searches above).
    if db.sqlite:
        return
    from sqlalchemy import text

    from crm.customers.merge import merge_customers
    from crm.erasure import service as erasure
    from tests.conftest import wipe

    async def words() -> tuple[set[tuple[int, str]], set[str]]:
        async with db.transaction(write=False) as session:
            pairs = {
                (customer, word)
                for word, customer in await session.execute(
                    text("SELECT word, customer_id FROM customer_search_word")
                )
            }
            vocabulary = set(
                await session.scalars(
                    text("SELECT word FROM customer_search_vocabulary")
                )
            )
        return pairs, vocabulary

    ada, bob, zed = await seed(
        api,
        person("Ada", "Lovelace", email="ada@analytical.test"),
        person("Bob", "Stone", company="Globex"),
        person("Zed", "Zyxwv"),
    )
    pairs, vocabulary = await words()
    assert {w for c, w in pairs if c == ada} == {
        "ada",
        "lovelace",
        "analytical",
        "test",
    }
    assert {w for c, w in pairs if c == zed} == {"zed", "zyxwv"}
    assert vocabulary == {w for _, w in pairs}
    # a rename replaces the words; the old ones nobody else holds leave
    async with db.transaction() as session:
        await customer_service.update_customer(
            session, SYSTEM, bob, {"family_name": "Marble", "display_name": None}
        )
    pairs, vocabulary = await words()
    assert {w for c, w in pairs if c == bob} == {"bob", "marble", "globex"}
    assert "stone" not in vocabulary and "marble" in vocabulary
    assert await search(api, (await api.staff("analyst"))[1], "marb") == ["Bob Marble"]
    # a merge archives the source: its words stay (an archived customer is found
    # when asked for), and they go with its erasure
    async with db.transaction() as session:
        await merge_customers(session, SYSTEM, target_id=ada, source_id=zed)
    async with db.transaction() as session:
        await erasure.erase_customer(session, SYSTEM, ada, reason="Asked by letter")
    pairs, vocabulary = await words()
    assert {w for c, w in pairs if c in (ada, zed)} == {"erased", "customer"}
    assert not {"ada", "lovelace", "analytical", "zed", "zyxwv"} & vocabulary
    assert vocabulary == {w for _, w in pairs}
    # deleting customers takes their words away
    await wipe(db)
    assert await words() == (set(), set())


async def test_the_demo_seed_fills_the_word_tables(db):
    # The demo seed COPYs customers in bulk (PostgreSQL): the triggers see it too.
    if db.sqlite:
        return
    import re

    from sqlalchemy import text

    from crm.demo import seed_demo

    await seed_demo(db, customers=60)
    async with db.transaction(write=False) as session:
        expected = {
            (customer, word)
            for customer, document in await session.execute(
                text("SELECT id, search_text FROM customer")
            )
            for word in re.findall(r"[^\W_]+", document)
        }
        stored = set(
            await session.execute(
                text("SELECT customer_id, word FROM customer_search_word")
            )
        )
        vocabulary = set(
            await session.scalars(text("SELECT word FROM customer_search_vocabulary"))
        )
    assert len(expected) > 60 * 3
    assert stored == expected
    assert vocabulary == {word for _, word in expected}
