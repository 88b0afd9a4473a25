# Incidents, dispatches, timeline entries, PBX keys, agency memberships and the
# settings row are recorded by the row history (audit.history) in every Pemda
# schema. Timeline entries become append-only in PostgreSQL too: UPDATE, DELETE
# and TRUNCATE are refused, except the retention purge (SET LOCAL
# siaga112.purge = 'on') and the one UPDATE Django itself makes, setting
# actor_id to NULL when a user row is deleted (on_delete=SET_NULL). Plus the
# per-Pemda personal-data retention period. Same unqualified-name rule as
# audit 0001 (the template's dump carries the function into new Pemda).

from django.db import migrations, models

from audit.history import track

TIMELINE_GUARD = """
CREATE OR REPLACE FUNCTION incidents_timeline_append_only() RETURNS trigger
LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = 'timeline entries are append-only: TRUNCATE refused';
    END IF;
    IF coalesce(current_setting('siaga112.purge', true), '') = 'on' THEN
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        IF NEW.actor_id IS NULL AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION USING
        ERRCODE = 'insufficient_privilege',
        MESSAGE = 'timeline entries are append-only: ' || TG_OP || ' refused';
END
$body$
"""


class Migration(migrations.Migration):

    dependencies = [
        ("incidents", "0004_live_counters_ring_timeout"),
        ("audit", "0002_row_history"),
    ]

    operations = [
        migrations.AddField(
            model_name="incidentsettings",
            name="personal_data_retention_days",
            field=models.PositiveSmallIntegerField(default=365),
        ),
        track("incidents_incident"),
        track("incidents_dispatch"),
        track("incidents_timelineentry"),
        track("incidents_pbxcredential", ignore=["last_used_at"]),
        track("incidents_agencymember"),
        track("incidents_incidentsettings"),
        migrations.RunSQL(
            sql=[
                TIMELINE_GUARD,
                "CREATE TRIGGER incidents_timeline_append_only BEFORE UPDATE OR DELETE "
                "ON incidents_timelineentry FOR EACH ROW "
                "EXECUTE FUNCTION incidents_timeline_append_only()",
                "CREATE TRIGGER incidents_timeline_no_truncate BEFORE TRUNCATE "
                "ON incidents_timelineentry FOR EACH STATEMENT "
                "EXECUTE FUNCTION incidents_timeline_append_only()",
            ],
            reverse_sql=[
                "DROP TRIGGER IF EXISTS incidents_timeline_no_truncate ON incidents_timelineentry",
                "DROP TRIGGER IF EXISTS incidents_timeline_append_only ON incidents_timelineentry",
                "DROP FUNCTION IF EXISTS incidents_timeline_append_only()",
            ],
        ),
    ]
