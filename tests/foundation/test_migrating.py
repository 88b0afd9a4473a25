import pytest
from django.db import connection

from tenants.migrating import migrate_all, schemas_behind


@pytest.mark.django_db
def test_up_to_date_schemas_are_not_touched():
    result = migrate_all()
    assert result.migrated == []
    assert result.checked >= 150  # public, template and the demo Pemda


@pytest.mark.django_db
def test_a_schema_missing_one_migration_is_found(tenant_a, tenant_b):
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{tenant_a.schema_name}".django_migrations '
            "WHERE app = 'sessions' AND name = '0001_initial'"
        )
    assert schemas_behind([tenant_a.schema_name, tenant_b.schema_name, "public"]) == [
        tenant_a.schema_name
    ]
