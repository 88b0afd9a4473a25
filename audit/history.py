"""Row history kept by PostgreSQL itself (issue 8, control 3).

Services write the audit trail (audit.services) for what a person meant to
do; this is the lower layer underneath it: an AFTER trigger on each watched
table writes every INSERT, UPDATE and DELETE, as the before and after images
of the row (jsonb), into `audit_rowhistory` of the same schema. A write that
bypasses the services (raw SQL, a shell, a bug) is recorded all the same, and
the history table refuses UPDATE, DELETE and TRUNCATE like the audit trail
(only the retention purge, inside `SET LOCAL siaga112.purge = 'on'`, may
pseudonymise or remove rows).

The function and the triggers are created with unqualified names in the
schema being migrated, as audit migration 0001 explains, so the template's
pg_dump carries them into every cloned Pemda. The function writes into
`<TG_TABLE_SCHEMA>.audit_rowhistory`, never through the search path, so a
session whose search path is only `public` still records a Pemda's change in
that Pemda's own history. Function bodies must not have lines starting with
"SET " or "--" (tenants.cloning drops those lines from the dump).

Secrets (password, key and token hashes) are never copied: their value is
replaced by a short fingerprint, so a change shows as a change.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import migrations

# Column names whose values never enter the history (kept in step with
# audit.services.SECRET_KEYS, which masks the same names in the audit trail).
SECRET_COLUMNS = ("password", "key_hash", "token_hash", "webhook_secret", "secret")

_SECRETS_SQL = ", ".join(f"'{c}'" for c in SECRET_COLUMNS)

ROW_HISTORY_FUNCTION = f"""
CREATE OR REPLACE FUNCTION audit_row_history() RETURNS trigger
LANGUAGE plpgsql AS $body$
DECLARE
    before_image jsonb;
    after_image jsonb;
    pk_column text := TG_ARGV[0];
    ignored text[] := coalesce(TG_ARGV[1:], ARRAY[]::text[]);
    secret text;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        before_image := to_jsonb(OLD);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        after_image := to_jsonb(NEW);
    END IF;
    IF TG_OP = 'UPDATE' AND (before_image - ignored) = (after_image - ignored) THEN
        RETURN NULL;
    END IF;
    FOREACH secret IN ARRAY ARRAY[{_SECRETS_SQL}] LOOP
        IF before_image ? secret THEN
            before_image := jsonb_set(before_image, ARRAY[secret],
                CASE WHEN coalesce(before_image ->> secret, '') = '' THEN 'null'::jsonb
                ELSE to_jsonb('masked:' || left(md5(before_image ->> secret), 8)) END);
        END IF;
        IF after_image ? secret THEN
            after_image := jsonb_set(after_image, ARRAY[secret],
                CASE WHEN coalesce(after_image ->> secret, '') = '' THEN 'null'::jsonb
                ELSE to_jsonb('masked:' || left(md5(after_image ->> secret), 8)) END);
        END IF;
    END LOOP;
    EXECUTE format(
        'INSERT INTO %I.audit_rowhistory '
        '(at, table_name, row_pk, op, before, after, db_user, txid) '
        'VALUES (clock_timestamp(), $1, $2, $3, $4, $5, current_user, txid_current())',
        TG_TABLE_SCHEMA)
    USING TG_TABLE_NAME,
        coalesce(after_image ->> pk_column, before_image ->> pk_column, ''),
        TG_OP, before_image, after_image;
    RETURN NULL;
END
$body$
"""

# The audit trail's guard (migration 0001), now also letting the purge UPDATE
# (pseudonymise) rows; TRUNCATE stays refused for everyone. Shared by
# audit_auditentry and audit_rowhistory.
APPEND_ONLY_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE')
       AND coalesce(current_setting('siaga112.purge', true), '') = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'insufficient_privilege',
        MESSAGE = TG_TABLE_NAME || ' is append-only: ' || TG_OP || ' refused';
END
$body$
"""

APPEND_ONLY_FUNCTION_0001 = """
CREATE OR REPLACE FUNCTION audit_entry_append_only() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP = 'DELETE'
       AND coalesce(current_setting('siaga112.purge', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'insufficient_privilege',
        MESSAGE = 'audit entries are append-only: ' || TG_OP || ' refused';
END
$body$
"""


def _trigger_name(table: str) -> str:
    return f"{table[:40]}_history"


def track(table: str, *, pk: str = "id", ignore: Iterable[str] = ()) -> migrations.RunSQL:
    """A migration operation recording every write to `table` in the row history.

    `ignore` lists columns whose change alone is not worth a history row
    (a user's last_login)."""
    args = ", ".join(f"'{name}'" for name in (pk, *ignore))
    name = _trigger_name(table)
    return migrations.RunSQL(
        sql=[
            f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION audit_row_history({args})"
        ],
        reverse_sql=[f"DROP TRIGGER IF EXISTS {name} ON {table}"],
    )


def history_trigger_name(table: str) -> str:
    return _trigger_name(table)
