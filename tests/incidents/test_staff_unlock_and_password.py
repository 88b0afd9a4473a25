"""The Pemda admin helps a colleague who cannot log in: lifts a lockout (too many
wrong passwords) before its cool-off ends, or gives a new password. Both from the
users page, recorded in the audit trail; nobody else may, and a weak password
changes nothing."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from .conftest import post_json

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-112"


def _lock_out(tenant, username: str) -> None:
    from axes.models import AccessAttempt

    with schema_context(tenant.schema_name):
        AccessAttempt.objects.create(
            username=username, ip_address="127.0.0.1", user_agent="test", path_info="/accounts/login/",
            get_data="", post_data="", http_accept="*/*",
            failures_since_start=settings.AXES_FAILURE_LIMIT, attempt_time=timezone.now())


def _log_in(tenant, username: str, password: str) -> int:
    from conftest import host_of

    client = Client(HTTP_HOST=host_of(tenant), REMOTE_ADDR="127.0.0.1")
    answer = client.post("/accounts/login/", {"username": username, "password": password})
    return answer.status_code


def test_the_admin_unlocks_a_locked_out_operator(tenant_a, as_user, make_user):
    from audit.models import AuditEntry

    user = make_user(tenant_a, "call_taker", username="op.terkunci")
    _lock_out(tenant_a, user.username)
    assert _log_in(tenant_a, user.username, PASSWORD) != 302  # refused while locked

    admin = as_user(tenant_a, "admin")
    page = admin.get("/manage/users/").content.decode()
    assert "terkunci" in page and 'name="unlock"' in page
    assert admin.post("/manage/users/", {"user_id": user.pk, "unlock": "1"}).status_code == 302
    assert 'name="unlock"' not in admin.get("/manage/users/").content.decode()
    assert _log_in(tenant_a, user.username, PASSWORD) == 302
    with schema_context(tenant_a.schema_name):
        assert AuditEntry.objects.filter(action="staff.unlocked", target_id=str(user.pk)).exists()


@pytest.mark.parametrize("who", [None, "operator1", "supervisor", "damkar", "bupati"])
def test_only_the_admin_unlocks(tenant_a, as_user, client_for, make_user, who):
    from axes.models import AccessAttempt

    user = make_user(tenant_a, "call_taker")
    _lock_out(tenant_a, user.username)
    client = client_for(tenant_a) if who is None else as_user(tenant_a, who)
    assert client.post("/manage/users/", {"user_id": user.pk, "unlock": "1"}).status_code in (
        302, 403)
    with schema_context(tenant_a.schema_name):
        assert AccessAttempt.objects.filter(username=user.username).count() == 1


def test_the_admin_gives_a_new_password_and_a_weak_one_changes_nothing(
        tenant_a, as_user, make_user):
    user = make_user(tenant_a, "call_taker", display_name="Operator Lupa")
    admin = as_user(tenant_a, "admin")
    row = {"user_id": user.pk, "display_name": "Operator Lupa", "role": "call_taker",
           "active": "1"}
    weak = post_json(admin, "/manage/users/", {**row, "password": "123"})
    assert weak.status_code == 400 and weak.json()["field"] == "password"
    with schema_context(tenant_a.schema_name):
        user.refresh_from_db()
        assert user.check_password(PASSWORD)
    answer = admin.post("/manage/users/", {**row, "password": "kuda-benar-baterai-112"})
    assert answer.status_code == 302
    with schema_context(tenant_a.schema_name):
        user.refresh_from_db()
        assert user.check_password("kuda-benar-baterai-112") and user.is_active
    # Saved again with the field left empty: the password stays.
    assert admin.post("/manage/users/", {**row, "password": ""}).status_code == 302
    with schema_context(tenant_a.schema_name):
        user.refresh_from_db()
        assert user.check_password("kuda-benar-baterai-112")
