# Users and their roles, in the public schema and in every Pemda schema, are
# recorded by the row history (audit.history). A login only moves last_login:
# that alone is not a history row.

from django.db import migrations

from audit.history import track


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_admininvitation_from_onboarding"),
        ("audit", "0002_row_history"),
    ]

    operations = [
        track("accounts_user", ignore=["last_login"]),
        track("accounts_user_groups"),
    ]
