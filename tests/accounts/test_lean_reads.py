"""The session row and the signed-in user are read by fixed statements on every request
(accounts.sessions, accounts.models.Users.get): the same answers as Django's ORM reads,
from outside (a request with the cookie) and side by side (the ORM's own query on the
same rows): an expired or deleted session signs out, a deactivated user is let nowhere,
a session of one Pemda is nothing on another's host."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.sessions.backends.db import SessionStore as DjangoDBStore
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import Role, User
from accounts.sessions import SessionStore

CONSOLE = "/console/"


def _signed_in(client_for, make_user, tenant):
    user = make_user(tenant, Role.CALL_TAKER)
    client = client_for(tenant, user)
    response = client.get(CONSOLE)
    assert response.status_code == 200, response.status_code
    return user, client


def _session_key(client) -> str:
    return client.cookies["sessionid"].value


def test_the_configured_engine_is_the_lean_one(settings) -> None:
    assert settings.SESSION_ENGINE == "accounts.sessions"


def test_a_session_loads_as_djangos_own_store_loads_it(tenant_a, client_for, make_user) -> None:
    user, client = _signed_in(client_for, make_user, tenant_a)
    key = _session_key(client)
    with schema_context(tenant_a.schema_name):
        ours = SessionStore(key).load()
        djangos = DjangoDBStore(key).load()
    assert ours == djangos
    assert ours["_auth_user_id"] == str(user.pk)


def test_an_expired_session_signs_out_and_is_not_renewed(
    tenant_a, client_for, make_user
) -> None:
    _, client = _signed_in(client_for, make_user, tenant_a)
    key = _session_key(client)
    with schema_context(tenant_a.schema_name):
        Session.objects.filter(session_key=key).update(
            expire_date=timezone.now() - timedelta(seconds=1))
        store = SessionStore(key)
        assert store.load() == {}
        assert store.session_key is None  # as Django's: the key is dropped, never reused
    response = client.get(CONSOLE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    with schema_context(tenant_a.schema_name):
        # The expired row is left as it was (the cleanup job removes it), not extended.
        row = Session.objects.get(session_key=key)
        assert row.expire_date < timezone.now()


def test_a_deleted_or_made_up_session_is_nobody(tenant_a, client_for, make_user) -> None:
    _, client = _signed_in(client_for, make_user, tenant_a)
    key = _session_key(client)
    with schema_context(tenant_a.schema_name):
        Session.objects.filter(session_key=key).delete()
        assert SessionStore(key).load() == {}
        assert SessionStore("x" * 32).load() == {}
        assert SessionStore(None).load() == {}
    assert client.get(CONSOLE).status_code == 302


def test_a_session_of_one_pemda_is_nothing_on_another_host(
    tenant_a, tenant_b, client_for, make_user
) -> None:
    _, client = _signed_in(client_for, make_user, tenant_a)
    key = _session_key(client)
    with schema_context(tenant_b.schema_name):
        assert SessionStore(key).load() == {}
    other = client_for(tenant_b)
    other.cookies["sessionid"] = key
    response = other.get(CONSOLE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    with schema_context(tenant_b.schema_name):
        assert not Session.objects.filter(session_key=key).exists()


def test_the_user_read_by_pk_is_the_orms_instance(tenant_a, make_user) -> None:
    user = make_user(tenant_a, Role.SUPERVISOR, display_name="Rina S.", email="rina@example.id")
    with schema_context(tenant_a.schema_name):
        with CaptureQueriesContext(connection) as queries:
            ours = User.objects.get(pk=user.pk)
        theirs = User.objects.filter(pk=user.pk).get()  # the ORM's own path
    # One statement (django-tenants may send its search path first).
    reads = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SET ")]
    assert len(reads) == 1 and reads[0].startswith("SELECT "), reads
    fields = [f.attname for f in User._meta.concrete_fields]
    assert {f: getattr(ours, f) for f in fields} == {f: getattr(theirs, f) for f in fields}
    assert ours._state.adding is False and ours._state.db == theirs._state.db
    assert ours.has_role(Role.SUPERVISOR)


def test_the_user_read_refuses_as_the_orm_does(tenant_a, tenant_b, make_user) -> None:
    user = make_user(tenant_a, Role.CALL_TAKER, username=f"lean-{uuid.uuid4().hex[:10]}")
    with schema_context(tenant_b.schema_name):
        # Same id, other Pemda's schema: whatever the ORM finds there (nothing, or that
        # Pemda's own account with this id), never the first Pemda's user.
        theirs = User.objects.filter(pk=user.pk).values_list("username", flat=True).first()
        try:
            ours: str | None = User.objects.get(pk=user.pk).username
        except User.DoesNotExist:
            ours = None
        assert ours == theirs and ours != user.username
    with schema_context(tenant_a.schema_name):
        with pytest.raises(User.DoesNotExist):
            User.objects.get(pk=10**12)
        with pytest.raises(ValueError):
            User.objects.get(pk="not-a-number")
        # Any other lookup is the ORM's, unchanged.
        assert User.objects.get(username=user.username).pk == user.pk


def test_a_deactivated_user_is_let_nowhere(tenant_a, client_for, make_user) -> None:
    user, client = _signed_in(client_for, make_user, tenant_a)
    with schema_context(tenant_a.schema_name):
        User.objects.filter(pk=user.pk).update(is_active=False)
    response = client.get(CONSOLE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_changed_password_ends_other_sessions(tenant_a, client_for, make_user) -> None:
    user, client = _signed_in(client_for, make_user, tenant_a)
    with schema_context(tenant_a.schema_name):
        fresh = User.objects.filter(pk=user.pk).get()
        fresh.set_password("another-correct-horse-112")
        fresh.save()
    response = client.get(CONSOLE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
