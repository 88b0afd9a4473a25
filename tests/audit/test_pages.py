"""The audit pages from outside: the Pemda admin reads their own Pemda's trail,
the ministry the national one; everybody else is refused and the refusal
changes nothing. Action codes are shown as words, in Indonesian or English."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_tenants.utils import schema_context

from accounts.models import Role, User
from audit.models import AuditEntry
from audit.services import Target, record
from tenants.models import Region

TENANT_PAGE = "/manage/audit/"
NATIONAL_PAGE = "/audit/"


def _text(response) -> str:
    """What a person reads: the page without tags (option values are codes)."""
    return re.sub(r"<[^>]+>", " ", response.content.decode())


def _write(schema: str, label: str, action: str = "staff.role_changed", actor=None) -> None:
    with schema_context(schema):
        record(actor=actor, action=action, target=Target("user", "1", label),
               before={"role": "call_taker"}, after={"role": "supervisor"})


def _count(schema: str) -> int:
    with schema_context(schema):
        return AuditEntry.objects.count()


def _tenant_client(tenant, username: str | None) -> Client:
    host = tenant.domains.get(is_primary=True).domain
    client = Client(HTTP_HOST=host)
    if username is not None:
        with schema_context(tenant.schema_name):
            user = User.objects.get(username=username)
            client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


@pytest.mark.django_db
def test_tenant_trail_is_for_its_own_pemda_admin_only(tenant_a, tenant_b):
    _write(tenant_a.schema_name, "Dairi-only change")
    _write(tenant_b.schema_name, "Sidoarjo-only change")
    before = _count(tenant_a.schema_name)

    anonymous = _tenant_client(tenant_a, None).get(TENANT_PAGE)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    for username in ("operator1", "supervisor", "bupati", "damkar", "psc119"):
        response = _tenant_client(tenant_a, username).get(TENANT_PAGE)
        assert response.status_code == 403, username
        assert "Dairi-only change" not in response.content.decode()
    # Sidoarjo's admin, with their session, on Dairi's host: not logged in there.
    other = _tenant_client(tenant_b, "admin")
    response = other.get(TENANT_PAGE, HTTP_HOST="dairi.localhost")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # The page only reads: a POST is refused and nothing is written anywhere.
    admin = _tenant_client(tenant_a, "admin")
    assert admin.post(TENANT_PAGE, {"action": "x"}).status_code == 405
    assert _count(tenant_a.schema_name) == before

    page = admin.get(TENANT_PAGE)
    assert page.status_code == 200
    text = _text(page)
    assert "Dairi-only change" in text and "Sidoarjo-only change" not in text
    assert "Peran pengguna diubah" in text and "staff.role_changed" not in text
    # The console's navigation leads here.
    assert f'href="{TENANT_PAGE}"' in admin.get("/manage/users/").content.decode()
    own = _tenant_client(tenant_b, "admin").get(TENANT_PAGE)
    assert "Sidoarjo-only change" in _text(own) and "Dairi-only change" not in _text(own)


@pytest.mark.django_db
def test_tenant_trail_filters_paginates_and_speaks_english(tenant_a):
    with schema_context(tenant_a.schema_name):
        admin = User.objects.get(username="admin")
        operator = User.objects.get(username="operator1")
    for i in range(55):
        _write(tenant_a.schema_name, f"bulk-{i:02d}", action="agency.updated", actor=admin)
    _write(tenant_a.schema_name, "by-operator", action="block.lifted", actor=operator)
    client = _tenant_client(tenant_a, "admin")

    first = _text(client.get(TENANT_PAGE, {"action": "agency.updated"}))
    assert "bulk-54" in first and "bulk-05" in first and "bulk-04" not in first
    assert "by-operator" not in first
    assert "Halaman 1 dari 2" in first
    second = _text(client.get(TENANT_PAGE, {"action": "agency.updated", "page": 2}))
    assert "bulk-04" in second and "bulk-00" in second and "bulk-05" not in second
    only_operator = _text(client.get(TENANT_PAGE, {"user": "operator1"}))
    assert "by-operator" in only_operator and "bulk-" not in only_operator
    assert "Blokir nomor dicabut" in only_operator
    # Nonsense filters are ignored, never an error.
    assert client.get(TENANT_PAGE, {"action": "drop table", "page": "x"}).status_code == 200

    client.cookies["django_language"] = "en"
    english = _text(client.get(TENANT_PAGE, {"user": "operator1"}))
    assert "Number block lifted" in english and "block.lifted" not in english


@pytest.mark.django_db
def test_national_trail_is_for_the_ministry(tenant_a, make_user):
    _write("public", "National change", action="tenant.status_changed")
    _write(tenant_a.schema_name, "Dairi internal change")
    before = _count("public")

    anonymous = Client(HTTP_HOST="localhost").get(NATIONAL_PAGE)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    for username in ("prov.jatim", "prov.sumut", "koordinator.dairi"):
        client = Client(HTTP_HOST="localhost")
        client.force_login(User.objects.get(username=username),
                           backend="django.contrib.auth.backends.ModelBackend")
        response = client.get(NATIONAL_PAGE)
        assert response.status_code == 403, username
        assert "National change" not in response.content.decode()
    # A Pemda admin's session means nothing on the national host.
    dairi_admin = _tenant_client(tenant_a, "admin")
    response = dairi_admin.get(NATIONAL_PAGE, HTTP_HOST="localhost")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    inactive = make_user(None, Role.NATIONAL_OFFICER, username="nasional.nonaktif",
                         is_active=False)
    client = Client(HTTP_HOST="localhost")
    client.force_login(inactive, backend="django.contrib.auth.backends.ModelBackend")
    assert client.get(NATIONAL_PAGE).status_code in (302, 403)
    assert _count("public") == before

    for username in ("nasional", "auditor"):
        client = Client(HTTP_HOST="localhost")
        client.force_login(User.objects.get(username=username),
                           backend="django.contrib.auth.backends.ModelBackend")
        page = client.get(NATIONAL_PAGE)
        assert page.status_code == 200, username
        text = _text(page)
        assert "National change" in text and "Dairi internal change" not in text
        assert "Status tenant Pemda diubah" in text and "tenant.status_changed" not in text
        assert client.post(NATIONAL_PAGE).status_code == 405
    assert f'href="{NATIONAL_PAGE}"' in client.get("/").content.decode()
    assert _count("public") == before


@pytest.mark.django_db
def test_each_page_exists_only_on_its_own_host(tenant_a):
    nasional = Client(HTTP_HOST="localhost")
    nasional.force_login(User.objects.get(username="nasional"),
                         backend="django.contrib.auth.backends.ModelBackend")
    assert nasional.get(TENANT_PAGE).status_code == 404
    assert _tenant_client(tenant_a, "admin").get(NATIONAL_PAGE).status_code == 404
    assert Region.objects.filter(pk="12").exists()
