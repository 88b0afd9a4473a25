import json

import pytest
from django.db import connection
from django.test import Client
from django_tenants.postgresql_backend.base import DatabaseWrapper
from siaga112 import health


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["localhost", "dairi.localhost", "sidoarjo.localhost"])
def test_healthz_answers_on_every_host(host):
    response = Client(HTTP_HOST=host).get("/healthz/")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok" and body["failing"] == []


@pytest.mark.django_db
def test_healthz_names_redis_when_it_does_not_answer(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = Client(HTTP_HOST="dairi.localhost").get("/healthz/")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "fail"
    assert [f.split(":")[0] for f in body["failing"]] == ["redis"]


@pytest.mark.django_db
def test_healthz_names_postgres_when_it_does_not_answer(monkeypatch):
    dead = DatabaseWrapper({**connection.settings_dict, "HOST": "127.0.0.1", "PORT": "1"})
    monkeypatch.setattr(health, "connection", dead)
    response = Client(HTTP_HOST="localhost").get("/healthz/")
    assert response.status_code == 503
    assert [f.split(":")[0] for f in json.loads(response.content)["failing"]] == ["postgres"]


@pytest.mark.django_db
def test_unknown_host_gets_a_readable_404_page():
    response = Client(HTTP_HOST="atlantis.localhost").get("/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "atlantis.localhost" in text
    assert "dairi.localhost" in text  # tells the person where to go instead
    assert "Traceback" not in text


@pytest.mark.django_db
def test_public_and_tenant_hosts_serve_different_sites(tenant_a):
    for host in ("localhost", "dairi.localhost"):
        response = Client(HTTP_HOST=host).get("/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    public = Client(HTTP_HOST="localhost").get("/accounts/login/").content.decode()
    tenant = Client(HTTP_HOST="dairi.localhost").get("/accounts/login/").content.decode()
    assert "Kab. Dairi" in tenant and "Kab. Dairi" not in public


@pytest.mark.django_db
@pytest.mark.parametrize(("code", "zone"), [("71.74", "Asia/Makassar"), ("12.11", "Asia/Jakarta"),
                                            ("91.71", "Asia/Jayapura"), (None, "Asia/Jakarta")])
def test_pages_are_shown_in_the_pemdas_time_zone(code, zone):
    from django.http import HttpRequest, HttpResponse
    from django.utils import timezone
    from siaga112.middleware import TenantTimezoneMiddleware

    from tenants.models import Region, Tenant

    seen = {}

    def view(request):
        seen["zone"] = timezone.get_current_timezone_name()
        return HttpResponse()

    request = HttpRequest()
    request.tenant = Tenant(schema_name="x", region=Region.objects.get(code=code) if code else None)
    TenantTimezoneMiddleware(view)(request)
    assert seen["zone"] == zone
    assert timezone.get_current_timezone_name() == "UTC"  # deactivated after the request


@pytest.mark.django_db
def test_tenant_and_its_region_come_in_one_query():
    """Every request (a console polls each second) resolves its host; the region
    for the time zone must come with it, not as one more query."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = Client(HTTP_HOST="dairi.localhost").get("/accounts/login/")
    assert response.status_code == 200
    lookups = [q["sql"] for q in queries.captured_queries if "tenants_" in q["sql"]]
    assert len(lookups) == 1, lookups
    assert "tenants_region" in lookups[0]
