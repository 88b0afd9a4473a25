# API credentials are keys: who created, revoked or changed one is recorded by the
# public schema's row history (audit.history); the secret columns are masked there.

from django.db import migrations

from audit.history import track


class Migration(migrations.Migration):

    dependencies = [
        ("webhooks", "0001_initial"),
        ("audit", "0002_row_history"),
    ]

    operations = [track("webhooks_webhooksubscription")]
