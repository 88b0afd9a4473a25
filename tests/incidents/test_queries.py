"""The live partials are polled every second by every console: their query count
must not grow with the number of open incidents and dispatches."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from accounts.models import User
from incidents.models import Agency
from incidents.services import dispatching
from incidents.services import incidents as incident_services

PARTIALS = {
    "operator1": ["/console/calls/", "/console/incidents/", "/console/map.json"],
    "supervisor": ["/supervisor/board/"],
    "damkar": ["/opd/dispatches/"],
}


def _add_incidents(tenant, start, n):
    with schema_context(tenant.schema_name):
        op = User.objects.get(username="operator1")
        damkar, polres = Agency.objects.get(code="damkar").pk, Agency.objects.get(code="polres").pk
        for i in range(start, start + n):
            inc = incident_services.incident_create(
                data=incident_services.IncidentInput(category="fire", description=f"q{i}",
                                            latitude=2.5 + i / 1000, longitude=98.5,
                                            address="q", idempotency_key=f"queries-{i}"),
                actor=op, is_test=True, force=True).incident
            dispatching.dispatch_create(incident_id=inc.pk, agency_ids=[damkar, polres], actor=op)


def _counts(tenant, as_user):
    counts = {}
    for username, paths in PARTIALS.items():
        client = as_user(tenant, username)
        for path in paths:
            client.get(path)  # warm the session/user caches
            with CaptureQueriesContext(connection) as ctx:
                assert client.get(path).status_code == 200
            # django-tenants re-sends SET search_path before each query; count the work.
            counts[path] = sum(1 for q in ctx.captured_queries
                               if not q["sql"].startswith("SET search_path"))
    return counts


def test_polled_partials_do_not_grow_with_open_incidents(tenant_a, as_user):
    _add_incidents(tenant_a, 0, 2)
    few = _counts(tenant_a, as_user)
    _add_incidents(tenant_a, 2, 8)
    many = _counts(tenant_a, as_user)
    assert many == few
    # session + user (the host's tenant and region come from the process cache,
    # tenants.hosts), then at most 5 of the screen's own.
    assert max(few.values()) <= 8, few
