"""Seed the default categories, OPD agencies, routing rules and the settings row.

Runs in the template schema (and any schema migrated the slow way); new tenants are
cloned from the template with these rows, so every Pemda starts with them. Only
inserts what is missing: a Pemda's own edits are never overwritten.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from incidents.seed import AGENCIES, CATEGORIES, ROUTING

    if schema_editor.connection.schema_name == "public":
        return  # tenant app: nothing to seed in the public schema
    Category = apps.get_model("incidents", "Category")
    Agency = apps.get_model("incidents", "Agency")
    RoutingRule = apps.get_model("incidents", "RoutingRule")
    IncidentSettings = apps.get_model("incidents", "IncidentSettings")
    IncidentSettings.objects.get_or_create(pk=1)
    for order, (code, name, name_en, priority, ack, arrive) in enumerate(CATEGORIES, start=1):
        Category.objects.get_or_create(
            code=code,
            defaults={"name": name, "name_en": name_en, "priority": priority,
                      "ack_target_minutes": ack, "arrive_target_minutes": arrive,
                      "sort_order": order * 10},
        )
    for code, name, kind in AGENCIES:
        Agency.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})
    for category_code, agency_codes in ROUTING.items():
        category = Category.objects.get(code=category_code)
        for order, agency_code in enumerate(agency_codes, start=1):
            RoutingRule.objects.get_or_create(
                category=category, agency=Agency.objects.get(code=agency_code),
                defaults={"order": order},
            )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
