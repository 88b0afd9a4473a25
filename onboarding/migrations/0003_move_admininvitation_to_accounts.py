"""AdminInvitation moves to `accounts` (its service already lived there).

State only: the table `onboarding_admininvitation` and its rows stay where they
are; accounts.0002 takes the model over with the same db_table."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("onboarding", "0002_evidence_timeline_invitation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="AdminInvitation")],
            database_operations=[],
        ),
    ]
