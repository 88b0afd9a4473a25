"""Two-factor login from outside, through the real login form (never force_login):
supervisors, Pemda admins, national and provincial officers stop at the second
factor after the password, on Pemda and national hosts; a wrong code is refused
and throttled; the app's code (computed from the device key with
django_otp.oath.totp) and a backup code (once) let in; enrolment end to end;
roles without it are not asked; a session or an admin of one host reaches
nothing on another; a refused reset leaves the device untouched."""

from __future__ import annotations

import base64
import json
import time
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tenants.utils import schema_context
from siaga112.demo import DEMO_PASSWORD

from accounts.models import Role, User
from accounts.twofactor import backup_codes_regenerate, secret_base32
from audit.models import AuditEntry
from tests.twofactor import totp_code

VERIFY = "/accounts/2fa/verify/"
ENROL = "/accounts/2fa/enrol/"
USERS = "/accounts/2fa/users/"


def _host(tenant) -> str:
    return tenant.domains.get(is_primary=True).domain if tenant is not None else "localhost"


def _schema(tenant) -> str:
    return tenant.schema_name if tenant is not None else "public"


def _password_login(tenant, username: str, password: str = DEMO_PASSWORD) -> Client:
    client = Client(HTTP_HOST=_host(tenant))
    response = client.post("/accounts/login/", {"username": username, "password": password})
    assert response.status_code == 302, (username, response.status_code)
    return client


def _full_login(tenant, username: str) -> Client:
    """Password, then the app's current code on the verify page."""
    client = _password_login(tenant, username)
    response = client.post(VERIFY, {"code": totp_code(_schema(tenant), username)})
    assert response.status_code == 302 and VERIFY not in response["Location"], username
    return client


def _device(tenant, username: str) -> TOTPDevice | None:
    with schema_context(_schema(tenant)):
        return TOTPDevice.objects.filter(user__username=username, confirmed=True).first()


def _device_state(tenant, username: str) -> tuple | None:
    with schema_context(_schema(tenant)):
        row = TOTPDevice.objects.filter(user__username=username).values_list(
            "pk", "key", "confirmed", "last_t", "throttling_failure_count").first()
        codes = StaticToken.objects.filter(device__user__username=username).count()
    return None if row is None else (*row, codes)


def _wrong_code(right: str) -> str:
    return f"{(int(right) + 500_000) % 1_000_000:06d}"


TWO_FACTOR_ACCOUNTS = [
    (None, "nasional", "/"),
    (None, "prov.jatim", "/"),
    ("dairi", "supervisor", "/supervisor/"),
    ("dairi", "admin", "/manage/users/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("slug", "username", "page"), TWO_FACTOR_ACCOUNTS)
def test_a_password_alone_stops_at_the_second_factor(tenant_a, slug, username, page):
    tenant = tenant_a if slug else None
    client = _password_login(tenant, username)
    response = client.get(page)
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY) and "next=" in response["Location"]
    assert client.get(VERIFY).status_code == 200
    # No other page of the session, not even the account page or a JSON read.
    for path in ("/", "/accounts/2fa/", USERS, "/accounts/2fa/backup-codes/"):
        assert client.get(path)["Location"].startswith(VERIFY), path
    api = client.get(page, HTTP_ACCEPT="application/json")
    assert api.status_code == 403 and api.json()["second_factor"] == VERIFY
    graphql = client.post("/graphql/", data=json.dumps({"query": "{ __typename }"}),
                          content_type="application/json")
    assert graphql.status_code == 403 and "error" in graphql.json()
    polled = client.get(page, HTTP_HX_REQUEST="true")
    assert polled.status_code == 403 and polled["HX-Redirect"] == VERIFY
    # A user with a device cannot enrol another one with the password alone.
    assert client.get(ENROL)["Location"].startswith(VERIFY)


@pytest.mark.django_db
def test_wrong_code_is_refused_and_throttled_then_the_apps_code_lets_in(tenant_a):
    assert settings.OTP_TOTP_THROTTLE_FACTOR >= 1 and settings.OTP_STATIC_THROTTLE_FACTOR >= 1
    client = _password_login(tenant_a, "supervisor")
    right = totp_code(tenant_a.schema_name, "supervisor")
    wrong = client.post(VERIFY + "?next=/supervisor/", {"code": _wrong_code(right)})
    assert wrong.status_code == 400
    assert "Kode itu salah" in wrong.content.decode()
    assert client.get("/supervisor/")["Location"].startswith(VERIFY)
    # Throttled: right after a wrong code even the right one is not checked.
    throttled = client.post(VERIFY, {"code": right})
    assert throttled.status_code == 429 and "Tunggu" in throttled.content.decode()
    assert _device_state(tenant_a, "supervisor")[4] == 1  # one failure counted
    time.sleep(1.2)  # 2**0 s after one failure
    device = _device(tenant_a, "supervisor")
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=6, drift=device.drift):06d}"
    response = client.post(VERIFY, {"code": code, "next": "/supervisor/"})
    assert response.status_code == 302 and response["Location"] == "/supervisor/"
    assert client.get("/supervisor/").status_code == 200
    assert _device_state(tenant_a, "supervisor")[4] == 0
    # The same code again (replay, e.g. shoulder-surfed) opens no second session.
    other = _password_login(tenant_a, "supervisor")
    assert other.post(VERIFY, {"code": code}).status_code == 400


@pytest.mark.django_db
def test_a_backup_code_works_once(tenant_b):
    with schema_context(tenant_b.schema_name):
        codes = backup_codes_regenerate(user=User.objects.get(username="admin"))
    assert len(codes) == 10 and len(set(codes)) == 10
    client = _password_login(tenant_b, "admin")
    typed = codes[0][:4].upper() + "-" + codes[0][4:]  # as a person copies it
    response = client.post(VERIFY, {"code": typed})
    assert response.status_code == 302
    assert client.get("/manage/users/").status_code == 200
    assert _device_state(tenant_b, "admin")[5] == 9
    again = _password_login(tenant_b, "admin")
    assert again.post(VERIFY, {"code": codes[0]}).status_code == 400
    assert again.get("/manage/users/")["Location"].startswith(VERIFY)


@pytest.mark.django_db
def test_enrolment_end_to_end(tenant_a, make_user):
    user = make_user(tenant_a, Role.SUPERVISOR, username="spv.baru")
    client = _password_login(tenant_a, "spv.baru", "correct-horse-112")
    assert client.get("/supervisor/")["Location"].startswith(ENROL)
    assert client.get(VERIFY)["Location"].startswith(ENROL)  # nothing to verify yet
    page = client.get(ENROL)
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "<script" not in html.split("<main")[1]
    with schema_context(tenant_a.schema_name):
        device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = secret_base32(device)
    assert f'data-secret="{secret}"' in html
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)) == device.bin_key
    assert "Pindai kode QR" in html  # Indonesian first
    assert client.get(ENROL).content.decode().count(secret) >= 1  # same device on reload
    code = f"{totp(device.bin_key, step=30, digits=6):06d}"
    wrong = client.post(ENROL, {"code": _wrong_code(code)})
    assert wrong.status_code == 400 and _device(tenant_a, "spv.baru") is None
    time.sleep(1.2)
    done = client.post(ENROL + "?next=/supervisor/", {"code": code, "next": "/supervisor/"})
    assert done.status_code == 302 and done["Location"].startswith("/accounts/2fa/backup-codes/")
    shown = client.get(done["Location"]).content.decode()
    with schema_context(tenant_a.schema_name):
        stored = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
        assert AuditEntry.objects.filter(action="twofactor.enrolled", target_id=str(user.pk),
                                         actor_id=user.pk).count() == 1
    assert len(stored) == 10 and all(code_ in shown for code_ in stored)
    # Shown once only.
    assert client.get("/accounts/2fa/backup-codes/")["Location"] == "/accounts/2fa/"
    assert client.get("/supervisor/").status_code == 200
    # New backup codes: audited, the old ones stop working.
    assert client.post("/accounts/2fa/").status_code == 302
    with schema_context(tenant_a.schema_name):
        fresh = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
        assert AuditEntry.objects.filter(action="twofactor.backup_codes_regenerated",
                                         target_id=str(user.pk)).count() == 1
    assert not fresh & set(stored)
    # The next login asks for the code, and does not offer enrolment again.
    again = _password_login(tenant_a, "spv.baru", "correct-horse-112")
    assert again.get("/supervisor/")["Location"].startswith(VERIFY)
    assert again.get(ENROL)["Location"].startswith(VERIFY)
    assert again.post(VERIFY, {"code": stored[0]}).status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize(("slug", "username", "page"), [
    ("dairi", "operator1", "/console/"), ("dairi", "damkar", "/opd/"),
    ("dairi", "bupati", "/laporan/"), (None, "koordinator.dairi", "/pemda/12.11/"),
    (None, "auditor", "/audit/"),
])
def test_roles_without_two_factor_are_not_asked(tenant_a, slug, username, page):
    client = _password_login(tenant_a if slug else None, username)
    assert client.get(page).status_code == 200
    assert client.get(ENROL).status_code == 302  # nothing to set up
    assert _device(tenant_a if slug else None, username) is None


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(tenant_a):
    for host in (_host(tenant_a), "localhost"):
        client = Client(HTTP_HOST=host)
        for path in (VERIFY, ENROL, USERS, "/accounts/2fa/", "/accounts/2fa/backup-codes/"):
            response = client.get(path)
            assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert client.post(VERIFY, {"code": "123456"})["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_a_session_of_one_pemda_cannot_verify_on_another(tenant_a, tenant_b):
    dairi = _password_login(tenant_a, "supervisor")
    before = _device_state(tenant_b, "supervisor")
    cookie = dairi.cookies[settings.SESSION_COOKIE_NAME].value
    for host in (_host(tenant_b), "localhost"):
        elsewhere = Client(HTTP_HOST=host)
        elsewhere.cookies[settings.SESSION_COOKIE_NAME] = cookie
        code = totp_code(tenant_b.schema_name, "supervisor")
        response = elsewhere.post(VERIFY, {"code": code})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        assert elsewhere.get(USERS)["Location"].startswith("/accounts/login/")
    assert _device_state(tenant_b, "supervisor") == before
    assert dairi.get("/supervisor/")["Location"].startswith(VERIFY)  # still not verified


@pytest.mark.django_db
def test_pemda_admin_resets_a_users_two_factor(tenant_a):
    supervisor = _full_login(tenant_a, "supervisor")
    assert supervisor.get("/supervisor/").status_code == 200
    admin = _full_login(tenant_a, "admin")
    listing = admin.get(USERS).content.decode()
    assert "supervisor" in listing and "Reset" in listing
    with schema_context(tenant_a.schema_name):
        target = User.objects.get(username="supervisor")
    response = admin.post(USERS, {"user_id": target.pk})
    assert response.status_code == 302
    assert _device_state(tenant_a, "supervisor") is None
    with schema_context(tenant_a.schema_name):
        assert not StaticDevice.objects.filter(user=target).exists()
        entry = AuditEntry.objects.get(action="twofactor.reset", target_id=str(target.pk))
        assert entry.actor_username == "admin"
    # The supervisor's verified session lost its device: back to enrolment.
    assert supervisor.get("/supervisor/")["Location"].startswith(ENROL)


@pytest.mark.django_db
def test_reset_refused_leaves_the_device_untouched(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        target = User.objects.get(username="supervisor")
    before = _device_state(tenant_a, "supervisor")
    with schema_context(tenant_a.schema_name):
        audit_before = AuditEntry.objects.count()
    # Sidoarjo's admin, fully logged in on Sidoarjo, with that session on Dairi's host.
    sidoarjo_admin = _full_login(tenant_b, "admin")
    foreign = Client(HTTP_HOST=_host(tenant_a))
    foreign.cookies[settings.SESSION_COOKIE_NAME] = sidoarjo_admin.cookies[
        settings.SESSION_COOKIE_NAME].value
    assert foreign.post(USERS, {"user_id": target.pk})["Location"].startswith("/accounts/login/")
    # Dairi's own roles that may not reset, and Dairi's admin without the second factor.
    for username in ("supervisor", "operator1", "bupati"):
        client = _full_login(tenant_a, username) if username == "supervisor" else \
            _password_login(tenant_a, username)
        assert client.post(USERS, {"user_id": target.pk}).status_code == 403, username
    unverified_admin = _password_login(tenant_a, "admin")
    assert unverified_admin.post(USERS, {"user_id": target.pk})["Location"].startswith(VERIFY)
    after = _device_state(tenant_a, "supervisor")
    assert after[:3] == before[:3] and after[5] == before[5]  # key, confirmed, backup codes
    with schema_context(tenant_a.schema_name):
        assert not AuditEntry.objects.filter(action="twofactor.reset").exists()
        assert AuditEntry.objects.count() == audit_before


@pytest.mark.django_db
def test_national_officer_resets_public_accounts_only(tenant_a):
    with schema_context("public"):
        prov = User.objects.get(username="prov.jatim")
        nasional_id = User.objects.get(username="nasional").pk
    refused = _full_login(None, "prov.jatim")
    assert refused.post(USERS, {"user_id": nasional_id}).status_code == 403
    assert _device(None, "nasional") is not None
    nasional = _full_login(None, "nasional")
    assert nasional.post(USERS, {"user_id": nasional_id}).status_code == 409  # not oneself
    assert nasional.post(USERS, {"user_id": prov.pk}).status_code == 302
    assert _device(None, "prov.jatim") is None
    with schema_context("public"):
        assert AuditEntry.objects.filter(action="twofactor.reset",
                                         target_id=str(prov.pk)).count() == 1
    # A national session means nothing on a Pemda host.
    dairi = Client(HTTP_HOST=_host(tenant_a))
    dairi.cookies[settings.SESSION_COOKIE_NAME] = nasional.cookies[
        settings.SESSION_COOKIE_NAME].value
    assert dairi.get(USERS)["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_demo_credentials_and_the_totp_command(tenant_a):
    data = json.loads((settings.VAR_DIR / "demo-credentials.json").read_text())
    by_user = {(a["url"], a["username"]): a for a in data["accounts"]}
    for (_url, username), account in by_user.items():
        needs = account["role"] in {"supervisor", "pemda_admin", "national_officer",
                                    "provincial_officer"}
        assert ("totp_secret" in account) == needs, username
    dairi_supervisor = next(a for (url, name), a in by_user.items()
                            if name == "supervisor" and "dairi." in url)
    device = _device(tenant_a, "supervisor")
    assert dairi_supervisor["totp_secret"] == secret_base32(device)
    out = StringIO()
    now = f"{totp(device.bin_key, drift=device.drift):06d}"
    call_command("totp", "dairi.localhost:8000", "supervisor", stdout=out, stderr=StringIO())
    # Either side of a 30 s step boundary.
    assert out.getvalue().strip() in {now, f"{totp(device.bin_key, drift=device.drift):06d}"}
    out = StringIO()
    call_command("totp", "localhost", "nasional", stdout=out, stderr=StringIO())
    assert len(out.getvalue().strip()) == 6


@pytest.mark.django_db
def test_pages_are_indonesian_first_and_english_on_request(tenant_a):
    client = _password_login(tenant_a, "supervisor")
    indonesian = client.get(VERIFY).content.decode()
    assert "Login dua faktor" in indonesian and "Verifikasi" in indonesian
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(VERIFY).content.decode()
    assert "Enter the 6-digit code" in english and "Login dua faktor" not in english
    refused = client.post(VERIFY, {"code": "abcdefgh"})
    assert refused.status_code == 400 and "That code is wrong" in refused.content.decode()
