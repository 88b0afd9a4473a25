"""Rate limits from outside: per address across every host (login, PBX key
failures, GraphQL) and per PBX key, answered 429 with Retry-After; django-axes'
(username, address) lockout stays; a call center's shared NAT address is not
locked out by one operator's typo."""

from __future__ import annotations

import json
import random

import pytest
from django.test import Client
from django_tenants.utils import schema_context

PASSWORD = "correct-horse-112"


def _ip() -> str:
    # Each test its own address: the counters live in Redis, across tests and runs.
    return f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"


@pytest.fixture
def limits(settings):
    settings.THROTTLE = {
        "ENABLED": True,
        "LOGIN_FAILURES_PER_IP": (10, 600),
        "PBX_KEY_FAILURES_PER_IP": (5, 600),
        "PBX_REQUESTS_PER_KEY": (8, 600),
        "GRAPHQL_REQUESTS_PER_IP": (6, 600),
        "PROXY_COUNT": 0,
    }
    return settings.THROTTLE


def _login(host: str, ip: str, username: str, password: str):
    return Client(HTTP_HOST=host, REMOTE_ADDR=ip).post(
        "/accounts/login/", {"username": username, "password": password})


@pytest.mark.django_db
def test_twenty_operators_behind_one_nat_are_not_locked_out_by_one_typo(
    limits, tenant_a, make_user
):
    ip = _ip()
    operators = [make_user(tenant_a, "call_taker", username=f"nat-op-{i}") for i in range(20)]
    # One operator mistypes, more than once, before the shift logs in.
    for _ in range(3):
        assert _login("dairi.localhost", ip, operators[0].username, "wrong").status_code == 200
    for op in operators:
        response = _login("dairi.localhost", ip, op.username, PASSWORD)
        assert response.status_code == 302, (op.username, response.status_code)


@pytest.mark.django_db
def test_axes_still_locks_the_username_and_address_pair_only(limits, tenant_a, make_user):
    ip = _ip()
    victim = make_user(tenant_a, "call_taker", username="axes-victim")
    colleague = make_user(tenant_a, "call_taker", username="axes-colleague")
    for _ in range(5):
        _login("dairi.localhost", ip, victim.username, "wrong")
    locked = _login("dairi.localhost", ip, victim.username, PASSWORD)
    assert locked.status_code in (403, 429)
    assert _login("dairi.localhost", ip, colleague.username, PASSWORD).status_code == 302
    assert _login("dairi.localhost", _ip(), victim.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_one_address_trying_many_usernames_across_hosts_is_limited(
    limits, tenant_a, tenant_b, make_user
):
    ip = _ip()
    hosts = ["dairi.localhost", "sidoarjo.localhost", "localhost"]
    for i in range(10):  # never the same username twice: axes alone would not stop this
        response = _login(hosts[i % 3], ip, f"guess-{i}", "Password123")
        assert response.status_code == 200
    real = make_user(tenant_b, "call_taker", username="throttle-real")
    refused = _login("sidoarjo.localhost", ip, real.username, PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 600
    text = refused.content.decode()
    assert "Terlalu banyak percobaan" in text and "Too many attempts" in text
    # Nothing happened: no session was created for the refused login.
    assert "sessionid" not in refused.cookies
    # Another address is not affected.
    assert _login("sidoarjo.localhost", _ip(), real.username, PASSWORD).status_code == 302


def _pbx(host: str, ip: str, key: str, call_id: str):
    body = {"event": "ringing", "call_id": call_id, "caller": "081234567890", "trunk": "t"}
    return Client(HTTP_HOST=host, REMOTE_ADDR=ip).post(
        "/api/pbx/events/", data=json.dumps(body), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {key}")


@pytest.fixture
def pbx_key(tenant_a):
    from incidents.services import pbx as services

    with schema_context(tenant_a.schema_name):
        cred, raw = services.pbx_credential_create(name="throttle test", actor=None)
    return raw


@pytest.mark.django_db
def test_pbx_key_failures_from_one_address_are_limited(limits, tenant_a, pbx_key):
    from incidents.models import Call

    ip = _ip()
    for i in range(5):
        assert _pbx("dairi.localhost", ip, f"pbx_guess{i}_" + "x" * 20, f"g{i}").status_code == 401
    refused = _pbx("dairi.localhost", ip, pbx_key, "throttle-after-guessing")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["status"] == 429 and refused["Content-Type"] == "application/json"
    with schema_context(tenant_a.schema_name):
        assert not Call.objects.filter(external_id="throttle-after-guessing").exists()
    # The real PBX on its own address is not affected.
    assert _pbx("dairi.localhost", _ip(), pbx_key, "throttle-ok").status_code == 200


@pytest.mark.django_db
def test_requests_per_pbx_key_are_limited_and_a_guessed_prefix_uses_none(
    limits, tenant_a, pbx_key
):
    prefix = pbx_key.split("_")[1]
    # Someone knowing the prefix but not the secret does not use up the PBX's quota.
    for i in range(8):
        forged = _pbx("dairi.localhost", _ip(), f"pbx_{prefix}_" + "y" * 30, f"f{i}")
        assert forged.status_code == 401
    ip = _ip()
    statuses = [_pbx("dairi.localhost", ip, pbx_key, f"k{i}").status_code for i in range(9)]
    assert statuses == [200] * 8 + [429]


@pytest.mark.django_db
def test_graphql_requests_per_address_are_limited(limits):
    ip = _ip()
    client = Client(HTTP_HOST="localhost", REMOTE_ADDR=ip)
    statuses = [client.post("/graphql/", data='{"query": "{ __typename }"}',
                            content_type="application/json").status_code for _ in range(7)]
    assert statuses[:6] == [200] * 6 and statuses[6] == 429


@pytest.mark.django_db
def test_without_redis_requests_pass(limits, settings, tenant_a, make_user):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    user = make_user(tenant_a, "call_taker", username="no-redis-op")
    assert _login("dairi.localhost", _ip(), user.username, PASSWORD).status_code == 302
