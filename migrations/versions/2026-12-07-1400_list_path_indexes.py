"""Every list path indexed: covering indexes for relation-filter counts, and a
word table for search on PostgreSQL

Revision ID: 7c2e9a41d5b3
Revises: a1c4e0000008
Create Date: 2026-12-07 14:00:00

- `customer (lifecycle_stage, archived_at, id)` replaces `(lifecycle_stage)`: the
  stage filter with "not archived" reads the index alone and hands the ids to the
  relation filter's join.
- `interaction (kind, occurred_at, customer_id)` and `(channel, occurred_at,
  customer_id)` replace `(kind, occurred_at)` and `(channel, occurred_at)`: "customers
  with a purchase since ..." reads the matching customer ids from the index alone
  (the newest-purchases page uses the same index as before).
- PostgreSQL search (crm/customers/search.py): `customer_search_word (word,
  customer_id)`, one row per distinct word of a customer's `search_text`, and
  `customer_search_vocabulary (word)`, the distinct words with a trigram index for
  typo candidates. Both are kept by statement triggers on `customer` (every write
  path: ORM writes, bulk updates such as erasure, COPY of the demo seed), like the
  FTS5 table on SQLite, and are not in the SQLModel metadata (migrations/env.py
  leaves `customer_search_*` to this file). The GIN indexes over
  `to_tsvector(search_text)` and `search_text gin_trgm_ops` are no longer read
  and are dropped.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "7c2e9a41d5b3"
down_revision: str | None = "a1c4e0000008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_lifecycle_stage")
        batch_op.create_index(
            "ix_customer_lifecycle_stage_archived_id",
            ["lifecycle_stage", "archived_at", "id"],
            unique=False,
        )
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_kind_occurred")
        batch_op.drop_index("ix_interaction_channel_occurred")
        batch_op.create_index(
            "ix_interaction_kind_occurred_customer",
            ["kind", "occurred_at", "customer_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_interaction_channel_occurred_customer",
            ["channel", "occurred_at", "customer_id"],
            unique=False,
        )
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_WORDS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRES_WORDS_DOWN:
            op.execute(statement)
    with op.batch_alter_table("interaction", schema=None) as batch_op:
        batch_op.drop_index("ix_interaction_kind_occurred_customer")
        batch_op.drop_index("ix_interaction_channel_occurred_customer")
        batch_op.create_index(
            "ix_interaction_kind_occurred", ["kind", "occurred_at"], unique=False
        )
        batch_op.create_index(
            "ix_interaction_channel_occurred", ["channel", "occurred_at"], unique=False
        )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_lifecycle_stage_archived_id")
        batch_op.create_index(
            "ix_customer_lifecycle_stage", ["lifecycle_stage"], unique=False
        )


# The words of customer rows: what crm.customers.search.tokens() finds in a
# query (letters and digits), at most 100 characters each.
_WORDS = """
    SELECT DISTINCT left(w, 100) AS word, r.id AS customer_id
    FROM {rows} AS r, regexp_split_to_table(r.search_text, '[^[:alnum:]]+') AS w
    WHERE w <> '' {where}
"""
# Add words (and new ones to the vocabulary); take words away (and drop from the
# vocabulary those no customer holds any more: an erased name leaves it).
_ADD = """
    WITH added AS (
        INSERT INTO customer_search_word (word, customer_id) {words}
        RETURNING word
    )
    INSERT INTO customer_search_vocabulary (word)
    SELECT DISTINCT word FROM added ORDER BY 1 ON CONFLICT DO NOTHING;
"""
_REMOVE = """
    WITH gone AS (
        DELETE FROM customer_search_word WHERE customer_id = ANY(ids) RETURNING word
    )
    SELECT array_agg(DISTINCT word) INTO removed FROM gone;
"""
_PRUNE = """
    DELETE FROM customer_search_vocabulary AS v
    WHERE v.word = ANY(removed)
    AND NOT EXISTS (SELECT 1 FROM customer_search_word AS c WHERE c.word = v.word);
"""

POSTGRES_WORDS = [
    """CREATE TABLE customer_search_word (
        word text COLLATE "C" NOT NULL,
        customer_id integer NOT NULL,
        CONSTRAINT pk_customer_search_word PRIMARY KEY (word, customer_id)
    )""",
    "CREATE INDEX ix_customer_search_word_customer_id "
    "ON customer_search_word (customer_id)",
    """CREATE TABLE customer_search_vocabulary (
        word text COLLATE "C" NOT NULL,
        CONSTRAINT pk_customer_search_vocabulary PRIMARY KEY (word)
    )""",
    "CREATE INDEX ix_search_vocabulary_trgm "
    "ON customer_search_vocabulary USING gin (word gin_trgm_ops)",
    # Statement triggers with transition tables: one set-based statement per
    # write, however many rows it touches (the demo seed COPYs 100,000).
    "CREATE FUNCTION customer_search_words_inserted() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN"
    + _ADD.format(words=_WORDS.format(rows="new_rows", where=""))
    + "RETURN NULL; END $$",
    # An UPDATE trigger with transition tables cannot name its columns: the
    # rows whose search_text changed are found by comparing old and new.
    "CREATE FUNCTION customer_search_words_updated() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ DECLARE ids integer[]; removed text[]; BEGIN "
    "SELECT array_agg(n.id) INTO ids FROM new_rows AS n JOIN old_rows AS o "
    "ON o.id = n.id WHERE n.search_text IS DISTINCT FROM o.search_text; "
    "IF ids IS NULL THEN RETURN NULL; END IF;"
    + _REMOVE
    + _ADD.format(words=_WORDS.format(rows="new_rows", where="AND r.id = ANY(ids)"))
    + _PRUNE
    + "RETURN NULL; END $$",
    "CREATE FUNCTION customer_search_words_deleted() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ DECLARE ids integer[]; removed text[]; BEGIN "
    "SELECT array_agg(id) INTO ids FROM old_rows;"
    + _REMOVE
    + _PRUNE
    + "RETURN NULL; END $$",
    "CREATE FUNCTION customer_search_words_truncated() RETURNS trigger "
    "LANGUAGE plpgsql AS $$ BEGIN "
    "TRUNCATE customer_search_word, customer_search_vocabulary; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER customer_search_words_ai AFTER INSERT ON customer "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION customer_search_words_inserted()",
    "CREATE TRIGGER customer_search_words_au AFTER UPDATE ON customer "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION customer_search_words_updated()",
    "CREATE TRIGGER customer_search_words_ad AFTER DELETE ON customer "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION customer_search_words_deleted()",
    "CREATE TRIGGER customer_search_words_at AFTER TRUNCATE ON customer "
    "FOR EACH STATEMENT EXECUTE FUNCTION customer_search_words_truncated()",
    # The customers already there.
    "INSERT INTO customer_search_word (word, customer_id) "
    + _WORDS.format(rows="customer", where="")
    + " ORDER BY 1, 2",
    "INSERT INTO customer_search_vocabulary (word) "
    "SELECT DISTINCT word FROM customer_search_word ORDER BY 1",
    "ANALYZE customer_search_word",
    "ANALYZE customer_search_vocabulary",
    # Search reads the word table now.
    "DROP INDEX IF EXISTS ix_search_customer_tsv",
    "DROP INDEX IF EXISTS ix_search_customer_trgm",
]

POSTGRES_WORDS_DOWN = [
    "CREATE INDEX ix_search_customer_tsv ON customer "
    "USING gin (to_tsvector('simple', search_text))",
    "CREATE INDEX ix_search_customer_trgm ON customer "
    "USING gin (search_text gin_trgm_ops)",
    "DROP TRIGGER IF EXISTS customer_search_words_ai ON customer",
    "DROP TRIGGER IF EXISTS customer_search_words_au ON customer",
    "DROP TRIGGER IF EXISTS customer_search_words_ad ON customer",
    "DROP TRIGGER IF EXISTS customer_search_words_at ON customer",
    "DROP FUNCTION IF EXISTS customer_search_words_inserted()",
    "DROP FUNCTION IF EXISTS customer_search_words_updated()",
    "DROP FUNCTION IF EXISTS customer_search_words_deleted()",
    "DROP FUNCTION IF EXISTS customer_search_words_truncated()",
    "DROP TABLE IF EXISTS customer_search_vocabulary",
    "DROP TABLE IF EXISTS customer_search_word",
]
