"""On dairi.localhost, Dairi's own leadership and admin see what Dairi still
lacks; call-takers do not; the page only ever shows the host's own Pemda."""

import pytest
from django.test import override_settings

from accounts.models import Role

URLCONF = "tests.onboarding.urls_tenant_with_onboarding"


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=URLCONF)
@pytest.mark.parametrize("role,expected", [
    (Role.PEMDA_ADMIN, 200), (Role.VIEWER, 200), (Role.SUPERVISOR, 200),
    (Role.CALL_TAKER, 403), (Role.OPD_RESPONDER, 403), (None, 302),
])
def test_dairi_sees_what_it_lacks_on_its_own_host(tenant_a, client_for, make_user, role, expected):
    user = make_user(tenant_a, role, username=f"u-{role}") if role else None
    response = client_for(tenant_a, user).get("/onboarding/")
    assert response.status_code == expected
    if expected == 200:
        body = response.content.decode()
        assert "Kabupaten Dairi" in body and "routing 112 dibuka oleh Smartfren" in body
        assert "Perbup/Perwali" in body


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=URLCONF)
def test_other_host_shows_its_own_pemda(tenant_b, client_for, make_user):
    user = make_user(tenant_b, Role.PEMDA_ADMIN, username="adm-sda")
    body = client_for(tenant_b, user).get("/onboarding/").content.decode()
    assert "Kabupaten Sidoarjo" in body and "Dairi" not in body
    assert "ke-87 secara nasional" in body
