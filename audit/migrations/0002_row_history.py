# The row history table and its trigger function (audit.history); the watched
# tables get their triggers in their own apps' migrations (audit.history.track).
# The append-only guard now also lets the retention purge UPDATE rows (it
# pseudonymises caller numbers inside history instead of deleting it); TRUNCATE
# stays refused for everyone. Same unqualified-name rule as 0001.

import django.db.models.functions.datetime
from django.db import migrations, models

from audit.history import APPEND_ONLY_FUNCTION, APPEND_ONLY_FUNCTION_0001, ROW_HISTORY_FUNCTION


class Migration(migrations.Migration):

    dependencies = [
        ("audit", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="RowHistory",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("at", models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), db_index=True)),
                ("table_name", models.CharField(max_length=63)),
                ("row_pk", models.CharField(max_length=64)),
                ("op", models.CharField(max_length=8)),
                ("before", models.JSONField(blank=True, null=True)),
                ("after", models.JSONField(blank=True, null=True)),
                ("db_user", models.CharField(max_length=63)),
                ("txid", models.BigIntegerField()),
            ],
            options={
                "verbose_name": "row history",
                "verbose_name_plural": "row history",
                "ordering": ["-at", "-id"],
                "indexes": [models.Index(fields=["table_name", "row_pk", "-at"], name="audit_history_row")],
            },
        ),
        migrations.RunSQL(
            sql=[
                APPEND_ONLY_FUNCTION,
                ROW_HISTORY_FUNCTION,
                """
                CREATE TRIGGER audit_history_append_only
                BEFORE UPDATE OR DELETE ON audit_rowhistory
                FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()
                """,
                """
                CREATE TRIGGER audit_history_no_truncate
                BEFORE TRUNCATE ON audit_rowhistory
                FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()
                """,
            ],
            reverse_sql=[
                "DROP TRIGGER IF EXISTS audit_history_no_truncate ON audit_rowhistory",
                "DROP TRIGGER IF EXISTS audit_history_append_only ON audit_rowhistory",
                "DROP FUNCTION IF EXISTS audit_row_history()",
                APPEND_ONLY_FUNCTION_0001,
            ],
        ),
    ]
