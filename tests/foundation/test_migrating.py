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


def _has_table(schema, table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = %s",
            [schema, table],
        )
        return cursor.fetchone() is not None


@pytest.mark.django_db
def test_new_migration_is_replayed_from_the_template(tenant_b, tenant_c):
    """Unapply axes' last migration (a new table) in the template and two Pemda,
    as if it had just been written; migrate_all must migrate the template and
    replay the same SQL in the others. DDL is transactional: the test's
    rollback restores everything."""
    from django.core.management import call_command

    schemas = ["tenant_template", tenant_b.schema_name, tenant_c.schema_name]
    for schema in schemas:
        call_command("migrate_schemas", "axes", "0009", schema_name=schema, verbosity=0)
        assert not _has_table(schema, "axes_accessattemptexpiration")
    assert schemas_behind(schemas) == schemas
    # A model that never existed in tenant_c has no content type there either.
    c = tenant_c.schema_name
    with connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{c}".auth_permission WHERE content_type_id IN (SELECT id FROM '
            f'"{c}".django_content_type WHERE app_label = \'axes\' '
            "AND model = 'accessattemptexpiration')"
        )
        assert cursor.rowcount == 4
        cursor.execute(
            f'DELETE FROM "{c}".django_content_type '
            "WHERE app_label = 'axes' AND model = 'accessattemptexpiration'"
        )
        assert cursor.rowcount == 1

    result = migrate_all()

    assert result.migrated == schemas
    assert result.replayed == [tenant_b.schema_name, tenant_c.schema_name]
    assert schemas_behind(schemas) == []
    for schema in schemas:
        assert _has_table(schema, "axes_accessattemptexpiration")
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{tenant_c.schema_name}".auth_permission p '
            f'JOIN "{tenant_c.schema_name}".django_content_type ct ON ct.id = p.content_type_id '
            "WHERE ct.app_label = 'axes' AND ct.model = 'accessattemptexpiration'"
        )
        assert cursor.fetchone()[0] == 4  # add/change/delete/view, as in the template
