import pytest
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from accounts.models import User
from tenants.models import Domain, Region, Tenant
from tenants.services import tenant_provision


def _tables(schema):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", [schema]
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.django_db
def test_provision_clones_the_template_and_is_idempotent():
    region = Region.objects.get(name="Kabupaten Lumajang")
    first = tenant_provision(region=region)
    assert first.created
    assert schema_exists("pemda_35_08")
    assert first.tenant.schema_name == "pemda_35_08"
    assert Domain.objects.get(tenant=first.tenant).domain == "lumajang.localhost"
    # Same tables as the template, and the migrations recorded as applied.
    assert _tables("pemda_35_08") == _tables("tenant_template")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pemda_35_08.django_migrations")
        cloned = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM tenant_template.django_migrations")
        assert cloned == cursor.fetchone()[0] > 0

    second = tenant_provision(region=region)
    assert not second.created
    assert second.tenant.pk == first.tenant.pk
    assert Tenant.objects.filter(region=region).count() == 1
    assert Domain.objects.filter(tenant=first.tenant).count() == 1


@pytest.mark.django_db
def test_cloned_schema_is_usable_and_separate():
    tenant = tenant_provision(region=Region.objects.get(name="Kabupaten Pasuruan")).tenant
    with schema_context(tenant.schema_name):
        User.objects.create_user(username="cloned-user", password="x" * 12)
        assert User.objects.filter(username="cloned-user").exists()
    with schema_context("tenant_template"):
        assert not User.objects.filter(username="cloned-user").exists()
    assert not User.objects.filter(username="cloned-user").exists()  # public


@pytest.mark.django_db
def test_province_cannot_be_a_tenant():
    with pytest.raises(ValueError, match="province"):
        tenant_provision(region=Region.objects.get(code="35"))
    assert not Tenant.objects.filter(region__code="35").exists()


@pytest.mark.django_db(transaction=False)
def test_provision_task_runs_the_same_service(settings):
    from tenants.tasks import tenant_provision_task

    # .apply() runs the task body in-process: the service is what is under test here,
    # delivery by a real worker is covered in test_celery.
    schema = tenant_provision_task.apply(args=["35.09"]).get()
    assert schema == "pemda_35_09"
    assert tenant_provision_task.apply(args=["35.09"]).get() == "pemda_35_09"
