# A Pemda's tenant row (status: trial, live, suspended) is recorded by the
# public schema's row history (audit.history).

from django.db import migrations

from audit.history import track


class Migration(migrations.Migration):

    dependencies = [
        ("tenants", "0001_initial"),
        ("audit", "0002_row_history"),
    ]

    operations = [track("tenants_tenant")]
