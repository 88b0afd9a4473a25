"""/graphql/ on both hosts, from outside: JSON POST only, CSRF for session-
authenticated requests, no introspection or GraphiQL for anonymous users,
GraphiQL on the platform's own assets, and limits that refuse the expensive
query before it runs (the 500-alias `regencies{parent}` attack)."""

from __future__ import annotations

import json
import time

import pytest
from django.test import Client

ME = '{"query": "{ me { username } }"}'


def _post(client: Client, body: str, **extra):
    return client.post("/graphql/", data=body, content_type="application/json", **extra)


@pytest.fixture
def nasional(db):
    from accounts.models import User

    return User.objects.get(username="nasional")


@pytest.mark.django_db
@pytest.mark.parametrize("host", ["localhost", "dairi.localhost"])
def test_get_and_form_posts_never_run_a_query(host):
    client = Client(HTTP_HOST=host)
    response = client.get("/graphql/", {"query": "{ __typename }"})
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "data" not in response.json()
    response = client.post("/graphql/", {"query": "{ __typename }"})  # a form
    assert response.status_code == 415
    assert "data" not in response.json()
    assert _post(client, '{"query": "{ __typename }"}').json() == {"data": {"__typename": (
        "PublicQuery" if host == "localhost" else "TenantQuery")}}


@pytest.mark.django_db
def test_a_cross_site_request_with_the_victims_session_does_not_run(nasional):
    client = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    client.force_login(nasional, backend="django.contrib.auth.backends.ModelBackend")
    # What another site can make the victim's browser send: a form POST...
    form = client.post("/graphql/", {"query": "{ me { username } }"})
    assert form.status_code == 415 and b"nasional" not in form.content
    # ... and JSON without the token (a fetch without CORS cannot read our cookie/token).
    forged = _post(client, ME)
    assert forged.status_code == 403 and b"nasional" not in forged.content
    assert "CSRF" in forged.json()["errors"][0]["message"]
    # Our own page sends the token from the cookie it was given.
    client.get("/")
    token = client.cookies["csrftoken"].value
    own = _post(client, ME, HTTP_X_CSRFTOKEN=token)
    assert own.status_code == 200
    assert own.json() == {"data": {"me": {"username": "nasional"}}}


@pytest.mark.django_db
def test_anonymous_users_get_no_introspection_signed_in_users_do(nasional, client_for):
    query = json.dumps({"query": "{ __schema { queryType { name } } }"})
    anonymous = _post(Client(HTTP_HOST="localhost"), query)
    assert anonymous.status_code == 400
    assert "introspection" in anonymous.json()["errors"][0]["message"].lower()
    assert "data" not in anonymous.json() or anonymous.json()["data"] is None
    signed_in = _post(client_for(None, nasional), query)
    assert signed_in.json()["data"]["__schema"]["queryType"]["name"] == "PublicQuery"


@pytest.mark.django_db
def test_graphiql_only_for_signed_in_staff_in_development_on_own_assets(
    settings, make_user, client_for
):
    staff = make_user(None, "national_officer", username="gql-staff", is_staff=True)
    plain = make_user(None, "national_officer", username="gql-plain")
    html = {"HTTP_ACCEPT": "text/html"}
    assert Client(HTTP_HOST="localhost").get("/graphql/", **html).status_code == 405
    assert client_for(None, plain).get("/graphql/", **html).status_code == 405
    page = client_for(None, staff).get("/graphql/", **html)
    assert page.status_code == 200
    text = page.content.decode()
    assert "graphiql.min.js" in text
    assert "cdn" not in text.lower() and "https://" not in text and "http://" not in text
    for asset in ("vendor/graphiql/graphiql.min.js", "vendor/react/react.production.min.js",
                  "vendor/react-dom/react-dom.production.min.js", "js/graphiql-init.js"):
        assert f"/static/{asset}" in text
    settings.DEVELOPMENT = False
    assert client_for(None, staff).get("/graphql/", **html).status_code == 405


def _aliases(n: int) -> str:
    # Compact, as an attacker would send it: 500 aliases fit in the body limit.
    return "{" + "".join(f"a{i}:regencies{{parent{{name}}}}" for i in range(n)) + "}"


@pytest.mark.django_db
def test_the_500_alias_attack_is_refused_fast_before_it_runs():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="localhost")
    body = json.dumps({"query": _aliases(500)})
    started = time.monotonic()
    with CaptureQueriesContext(connection) as queries:
        response = _post(client, body)
    elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert elapsed < 1.0, elapsed
    assert len(response.content) < 2000
    messages = [e["message"] for e in response.json()["errors"]]
    assert "query aliases is 500; at most 20 allowed" in messages
    assert not [q for q in queries.captured_queries if "tenants_region" in q["sql"]
                and "tenants_domain" not in q["sql"]], "the query ran"
    # Within the limits, the same shape works.
    ok = _post(client, json.dumps({"query": _aliases(2)}))
    assert ok.status_code == 200 and len(ok.json()["data"]["a1"]) == 514


@pytest.mark.django_db
@pytest.mark.parametrize(("query", "message"), [
    ("{ provinces { parent { parent { parent { parent { parent { parent { parent { parent "
     "{ name } } } } } } } } } }", "query depth is 10; at most 8 allowed"),
    # A fragment used twice costs twice: nesting cannot hide the fields.
    ("fragment R on RegionType { name code parent { name code } } "
     "{ " + " ".join(f"p{i}: provinces {{ ...R ...R }}" for i in range(19)) + " }",
     "query fields is 209; at most 200 allowed"),
])
def test_depth_and_fields_are_limited_with_a_clear_message(query, message, settings):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_FIELDS": 100}
    response = _post(Client(HTTP_HOST="localhost"), json.dumps({"query": query}))
    assert response.status_code == 400
    expected = message.replace("at most 200", "at most 100")
    assert expected in [e["message"] for e in response.json()["errors"]]


@pytest.mark.django_db
def test_too_many_tokens_are_refused_before_parsing_ends(settings):
    settings.GRAPHQL_LIMITS = {**settings.GRAPHQL_LIMITS, "MAX_TOKENS": 50}
    response = _post(Client(HTTP_HOST="localhost"), json.dumps({"query": _aliases(10)}))
    assert response.status_code == 400
    assert response.json()["errors"] == [{"message": "the query has more than 50 tokens"}]


@pytest.mark.django_db
def test_bodies_over_the_size_limit_are_413():
    body = json.dumps({"query": "{ __typename }", "variables": {"x": "y" * 20000}})
    response = _post(Client(HTTP_HOST="dairi.localhost"), body)
    assert response.status_code == 413
    assert "larger than 16384 bytes" in response.json()["errors"][0]["message"]


def token_user(request):
    """A stand-in API-token authenticator for the hook."""
    from accounts.models import User

    if request.headers.get("Authorization") == "Token test-token-for-nasional":
        return User.objects.get(username="nasional")
    return None


@pytest.mark.django_db
def test_an_api_token_authenticator_plugs_in_without_csrf(settings):
    settings.GRAPHQL_AUTHENTICATORS = ["tests.foundation.test_graphql_hardening.token_user"]
    client = Client(HTTP_HOST="localhost", enforce_csrf_checks=True)
    response = _post(client, ME, HTTP_AUTHORIZATION="Token test-token-for-nasional")
    assert response.json() == {"data": {"me": {"username": "nasional"}}}
    assert _post(client, ME, HTTP_AUTHORIZATION="Token wrong").json() == {"data": {"me": None}}
