"""A Pemda's rows and logins mean nothing on another Pemda's host."""

import json

import pytest
from django_tenants.utils import schema_context

from accounts.models import User

STAFF = '{"query": "{ staff { username } me { username role } }"}'


def _staff(client):
    response = client.post("/graphql/", STAFF, content_type="application/json")
    assert response.status_code == 200
    data = json.loads(response.content)["data"]
    return [u["username"] for u in data["staff"]], data["me"]


@pytest.mark.django_db
def test_row_created_in_tenant_a_is_not_visible_from_tenant_b(
    tenant_a, tenant_b, make_user, client_for
):
    admin_a = make_user(tenant_a, "pemda_admin", username="admin-a")
    admin_b = make_user(tenant_b, "pemda_admin", username="admin-b")
    make_user(tenant_a, "call_taker", username="only-in-dairi")

    seen_a, me_a = _staff(client_for(tenant_a, admin_a))
    assert "only-in-dairi" in seen_a and me_a["username"] == "admin-a"
    seen_b, me_b = _staff(client_for(tenant_b, admin_b))
    assert "only-in-dairi" not in seen_b
    assert "admin-b" in seen_b


@pytest.mark.django_db
def test_login_for_one_pemda_means_nothing_on_another_host(tenant_a, tenant_b, make_user, client_for):
    make_user(tenant_a, "call_taker", username="dairi-operator")
    # Right password, wrong host: the account does not exist in Sidoarjo's schema.
    other = client_for(tenant_b)
    response = other.post("/accounts/login/", {"username": "dairi-operator",
                                               "password": "correct-horse-112"})
    assert response.status_code == 200  # form shown again with an error
    assert "_auth_user_id" not in other.session
    own = client_for(tenant_a)
    response = own.post("/accounts/login/", {"username": "dairi-operator",
                                             "password": "correct-horse-112"})
    assert response.status_code == 302

    # And a session cookie carried across hosts is not a session there.
    carried = client_for(tenant_b)
    carried.cookies = own.cookies
    _, me = _staff(carried)
    assert me is None


@pytest.mark.django_db
def test_tenant_user_cannot_log_in_on_the_national_console(tenant_a, make_user, public_client):
    make_user(tenant_a, "supervisor", username="dairi-supervisor")
    response = public_client.post("/accounts/login/", {"username": "dairi-supervisor",
                                                       "password": "correct-horse-112"})
    assert "_auth_user_id" not in public_client.session
    assert response.status_code == 200
    with schema_context("public"):
        assert not User.objects.filter(username="dairi-supervisor").exists()
