"""Walks EVERY URL pattern of both URLconfs and EVERY GraphQL query field of both
schemas with every role of DESIGN §2, from its own Pemda, from another Pemda and
from another province, and anonymously, against ONE explicit table of who may.

A route or GraphQL field missing from the table fails `test_every_route_...` /
`test_every_graphql_field_...` with a message saying where to add it, so a new
route is checked the day it is added.

Denied means 302 to the login page, 401, 403, 404 or 405: never 200 with data.
Every write route is also POSTed with an empty body by everybody; a denied POST
must leave every table of every schema untouched (PostgreSQL's per-transaction
tuple counters, `pg_stat_xact_user_tables`, see `_writes`).

Who is who:
- Pemda host: Sidoarjo (Jawa Timur). Its demo staff walk it with Sidoarjo's own
  objects ("own"), and again with another Pemda's object ids ("foreign ids": Dairi's
  rows for the public-schema objects — invoices, reports, referrals — and for rows
  in a Pemda schema an id Sidoarjo's schema does not hold). Dairi's staff (another
  Pemda, another province) and the national/provincial officers bring their own
  sessions to Sidoarjo's host: there they must be nobody (the anonymous column).
- National host: Dairi's onboarding (12.11, Sumatera Utara) is walked, so
  `prov.sumut` is the provincial officer of that province and `prov.jatim` the
  officer of another; `koordinator.dairi` is Dairi's coordinator and
  `koordinator.kotamobagu` another Pemda's. Sidoarjo's staff bring their sessions.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import schema_context

URLCONFS = {"tenant": "siaga112.urls_tenant", "public": "siaga112.urls_public"}
OWN_SLUG, OTHER_SLUG = "sidoarjo", "dairi"
PUBLIC_PEMDA, PUBLIC_PROVINCE = "12.11", "12"  # Dairi, Sumatera Utara

ANON = "anonymous"
# label -> demo username (DESIGN §2 roles; the demo seeds them, platform/siaga112/demo.py)
TENANT_STAFF = {
    "call_taker": "operator1",
    "supervisor": "supervisor",
    "opd_responder": "damkar",  # the walked incident/dispatch is Damkar's
    "opd_responder_other_agency": "psc119",  # ... and not PSC 119's
    "pemda_admin": "admin",
    "viewer": "bupati",
}
PUBLIC_STAFF = {
    "national_officer": "nasional",
    "provincial_officer": "prov.sumut",  # Dairi's province
    "provincial_officer_other_province": "prov.jatim",
    "pemda_coordinator": "koordinator.dairi",
    "pemda_coordinator_other_pemda": "koordinator.kotamobagu",
    "auditor": "auditor",
}


# --------------------------------------------------------------------------------------
# THE TABLE. One entry per route name (per URLconf) and per GraphQL query field.
# Adding a route? Add `"<route name>": may(<labels>, kind=...)` below; the labels are the
# keys of TENANT_STAFF / PUBLIC_STAFF, ANON, or the sets OPS/RESPONDERS/... below.
#   kind="page"   GET shows something to the allowed labels
#   kind="form"   a page that also takes a POST (POSTed with an empty body by everybody)
#   kind="write"  POST only (GET must be refused; POSTed with an empty body by everybody)
#   kind="open"   no login involved (health, login, logout, language, invitation, the
#                 GraphQL endpoint itself): anything but a 5xx; writes need not be denied
#   post=...      who may POST, when it differs from who may GET
#   params=...    values for path parameters that are not object ids
# Several rules for one route (a list) walk it once per rule (e.g. onboarding actions).
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    kind: str = "page"
    post: frozenset[str] | None = None
    params: dict[str, str] = field(default_factory=dict)

    @property
    def post_allowed(self) -> frozenset[str]:
        return self.allowed if self.post is None else self.post


def may(*labels: str | frozenset[str], kind: str = "page", post: Any = None,
        **params: str) -> Rule:
    flat: set[str] = set()
    for label in labels:
        flat |= {label} if isinstance(label, str) else set(label)
    post_set = None if post is None else frozenset(post)
    return Rule(frozenset(flat), kind, post_set, params)


NOBODY: frozenset[str] = frozenset()
OPEN = may(kind="open")
OPS = frozenset({"call_taker", "supervisor"})
RESPONDERS = frozenset({"opd_responder", "opd_responder_other_agency"})
TENANT_EVERYONE = frozenset(TENANT_STAFF)
PUBLIC_EVERYONE = frozenset(PUBLIC_STAFF)
PROVINCIAL = frozenset({"provincial_officer", "provincial_officer_other_province"})

TENANT_ROUTES: dict[str, Rule | list[Rule]] = {
    # every host
    "healthz": OPEN, "favicon": OPEN, "login": OPEN, "logout": OPEN,
    "set_language": OPEN, "invitation_accept": OPEN,
    "graphql": OPEN,  # its fields: TENANT_GRAPHQL
    # call-taking floor
    "home": may(TENANT_EVERYONE),
    "console": may(OPS), "console_calls": may(OPS), "ringing_alert": may(OPS),
    "presence_update": may(OPS, kind="write"),
    "console_incidents": may(OPS, RESPONDERS, "viewer"),
    # The pushed consoles' event stream (on the web server: one `unavailable` event).
    "console_stream": may(OPS, RESPONDERS, "viewer"),
    "map_json": may(OPS, RESPONDERS, "viewer"),
    "map_outlines": may(OPS, RESPONDERS, "viewer", "pemda_admin"),
    "call_answer": may(OPS, kind="write"), "call_classify": may(OPS, kind="write"),
    "incidents": may(OPS, RESPONDERS, "viewer", kind="form", post=OPS),
    "incident": may(OPS, "opd_responder", "viewer"),
    "incident_live": may(OPS, "opd_responder", "viewer"),
    "dispatch": may(OPS, kind="write"),
    "attach_call": may(OPS, kind="write"),
    "close": may("supervisor", kind="write"),
    "refer": may(OPS, kind="write"),
    "advance": may("opd_responder", kind="write"),
    "reassign": may("supervisor", kind="write"),
    "opd": may(RESPONDERS), "opd_dispatches": may(RESPONDERS),
    "supervisor": may("supervisor"), "supervisor_board": may("supervisor"),
    "presence_board": may("supervisor"),
    "handover": may("supervisor", "viewer"),
    "handover_note": may("supervisor", kind="write"),
    "handover_ack": may("supervisor", kind="write"),
    "blocks": may("supervisor"), "block_lift": may("supervisor", kind="write"),
    "dashboard": may("supervisor", "viewer", "pemda_admin", "call_taker"),
    "referrals": may(OPS, "viewer"),
    "referral_accept": may(OPS, kind="write"), "referral_decline": may(OPS, kind="write"),
    # Pemda admin
    "manage_users": may("pemda_admin", kind="form"),
    "manage_agencies": may("pemda_admin", kind="form"),
    "manage_categories": may("pemda_admin", kind="form"),
    "manage_pbx": may("pemda_admin", kind="form"),
    "pbx_revoke": may("pemda_admin", kind="write"),
    "manage_settings": may("pemda_admin", kind="form"),
    "manage_outlines": may("pemda_admin", kind="form"),
    "audit_tenant": may("pemda_admin"),
    "billing_tenant": may("pemda_admin"), "billing_tenant_pdf": may("pemda_admin"),
    # the PBX: by its key only, never by a session (tests/incidents/test_pbx.py)
    "pbx_events": may(NOBODY, kind="write"), "pbx_aml": may(NOBODY, kind="write"),
    # reports and onboarding status
    "kpi_dashboard": may("supervisor", "pemda_admin", "viewer"),
    "kpi_drill_down": may("supervisor", "viewer"),
    "kpi_export": may("supervisor", "pemda_admin", "viewer", fmt="csv"),
    "kpi_monthly": may("supervisor", "pemda_admin", "viewer", kind="form"),
    "kpi_monthly_pdf": may("supervisor", "pemda_admin", "viewer"),
    "onboarding_tenant_status": may("supervisor", "pemda_admin", "viewer"),
    # one's own second factor: any signed-in person's own page, about nobody else
    # (tests/accounts/test_twofactor.py tries them from other hosts and roles)
    "twofactor_account": OPEN, "twofactor_verify": OPEN, "twofactor_enrol": OPEN,
    "twofactor_backup_codes": OPEN,
    "twofactor_users": may("pemda_admin", kind="form"),
    "audit_tenant_history": may("pemda_admin"),
    "no_unit": may("opd_responder", kind="write"),
    # integration: API tokens, webhooks, EIDO documents
    "tenant_tokens": may("pemda_admin", kind="form"),
    "manage_webhooks": may("pemda_admin", kind="form"),
    "webhook_revoke": may("pemda_admin", kind="write"),
    "webhook_replay": may("pemda_admin", kind="write"),
    "eido_export": may(OPS, "opd_responder", "viewer"),
    "eido_import": may(OPS, kind="write"),
}

PUBLIC_ROUTES: dict[str, Rule | list[Rule]] = {
    "healthz": OPEN, "favicon": OPEN, "login": OPEN, "logout": OPEN,
    "set_language": OPEN, "invitation_accept": OPEN,
    "graphql": OPEN,  # its fields: PUBLIC_GRAPHQL
    # the console lands each role on its own page (coordinator: own Pemda; province)
    "home": may(PUBLIC_EVERYONE),
    # scoped to the officer's own province (tests/onboarding/test_permissions.py)
    "onboarding_list": may("national_officer", "auditor", PROVINCIAL),
    "onboarding_province": may("national_officer", "auditor", "provincial_officer",
                               code=PUBLIC_PROVINCE),
    "onboarding_pemda": may("national_officer", "auditor", "provincial_officer",
                            "pemda_coordinator", code=PUBLIC_PEMDA),
    "onboarding_letter": may("national_officer", "auditor", "provincial_officer",
                             "pemda_coordinator", code=PUBLIC_PEMDA),
    "onboarding_action": [
        # Dairi is in trial: only the ministry moves it on
        may("national_officer", kind="write", code=PUBLIC_PEMDA, action="advance"),
        may("national_officer", kind="write", code=PUBLIC_PEMDA, action="send_back"),
        may("national_officer", "provincial_officer", "pemda_coordinator", kind="write",
            code=PUBLIC_PEMDA, action="comment"),
        may("national_officer", "pemda_coordinator", kind="write", code=PUBLIC_PEMDA,
            action="trial_call"),
        may("national_officer", kind="write", code=PUBLIC_PEMDA, action="verification"),
    ],
    "audit_national": may("national_officer", "auditor"),
    "kpi_national": may("national_officer", PROVINCIAL),  # provincial: to their own page
    "kpi_province": may("national_officer", "provincial_officer", code=PUBLIC_PROVINCE),
    "billing_national": may("national_officer"),
    "billing_national_pdf": may("national_officer"),
    "billing_mark_paid": may("national_officer", kind="write"),
    "twofactor_account": OPEN, "twofactor_verify": OPEN, "twofactor_enrol": OPEN,
    "twofactor_backup_codes": OPEN,
    "twofactor_users": may("national_officer", kind="form"),
    "national_tokens": may("national_officer", kind="form"),
    "province_webhooks": may("national_officer", kind="form"),
    "province_webhook_revoke": may("national_officer", kind="write"),
    "province_webhook_replay": may("national_officer", kind="write"),
}

# GraphQL query fields: who gets data. Everybody else gets null or an empty list (or an
# error), never rows. Arguments the walk passes are in _graphql_args.
TENANT_GRAPHQL: dict[str, frozenset[str]] = {
    "incidents": OPS | RESPONDERS | {"viewer"},
    "incident": OPS | {"opd_responder", "viewer"},
    "openDispatches": OPS | RESPONDERS | {"viewer"},  # responders: own agency's only
    "provinces": TENANT_EVERYONE | {ANON},  # the public region registry
    "regencies": TENANT_EVERYONE | {ANON},
    "me": TENANT_EVERYONE,
    "staff": frozenset({"pemda_admin", "supervisor"}),
    "allIncidents": OPS | RESPONDERS | {"viewer"},  # responders: own agency's only
    "allDispatches": OPS | RESPONDERS | {"viewer"},
    "incidentEvents": OPS | RESPONDERS | {"viewer"},  # responders: own agency's entries
    "incidentEido": OPS | {"opd_responder", "viewer"},
}
PUBLIC_GRAPHQL: dict[str, frozenset[str]] = {
    "onboardingStatuses": frozenset({"national_officer"}) | PROVINCIAL,  # scoped
    "onboardingStatus": frozenset({"national_officer", "provincial_officer"}),
    "onboardingStageCounts": frozenset({"national_officer"}) | PROVINCIAL,  # scoped
    "onboardingTimeline": frozenset({"national_officer", "provincial_officer"}),
    "provinces": PUBLIC_EVERYONE | {ANON},
    "regencies": PUBLIC_EVERYONE | {ANON},
    "me": PUBLIC_EVERYONE,
    "staff": NOBODY,  # a Pemda's staff; the national host has none
    # Scoped to the officer's province and to live Pemda: Sumatera Utara (the walk's
    # provincial_officer) has none live in the demo, so its feed is rightly empty.
    "provinceIncidentEvents": frozenset({"national_officer", "auditor",
                                         "provincial_officer_other_province"}),
}

ROUTE_TABLES = {"tenant": TENANT_ROUTES, "public": PUBLIC_ROUTES}
GRAPHQL_TABLES = {"tenant": TENANT_GRAPHQL, "public": PUBLIC_GRAPHQL}
TABLE_HINT = ("tests/security/test_access_walk.py: add it to {table} with the roles "
              "(DESIGN §2) that may use it, e.g. {example}")


# --------------------------------------------------------------------------------------
# Enumerating what exists
# --------------------------------------------------------------------------------------


def enumerate_routes(urlconf: str) -> dict[str, str]:
    """route name (or the pattern, if unnamed) -> full pattern, for every URL pattern."""
    found: dict[str, str] = {}

    def walk(patterns: list[Any], prefix: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern):
                route = prefix + str(entry.pattern)
                key = entry.name or route
                if key in found and found[key] != route:
                    key = f"{key}@{route}"
                found[key] = route

    walk(get_resolver(urlconf).url_patterns, "")
    return found


def _schema(host: str) -> Any:
    from siaga112.schema import public_schema, tenant_schema

    return (tenant_schema if host == "tenant" else public_schema).graphql_schema


def enumerate_graphql_fields(host: str) -> dict[str, Any]:
    return dict(_schema(host).query_type.fields)


def test_every_route_of_both_urlconfs_is_in_the_table() -> None:
    missing = []
    for host, urlconf in URLCONFS.items():
        table = "TENANT_ROUTES" if host == "tenant" else "PUBLIC_ROUTES"
        for name, route in enumerate_routes(urlconf).items():
            if name not in ROUTE_TABLES[host]:
                missing.append(f"  {host} route {name!r} (/{route}) is not in {table}")
    assert not missing, (
        "Routes nobody has decided who may use:\n" + "\n".join(missing) + "\n"
        + TABLE_HINT.format(table="TENANT_ROUTES / PUBLIC_ROUTES",
                            example='"my_route": may("supervisor", kind="page")')
    )


def test_every_graphql_query_field_of_both_schemas_is_in_the_table() -> None:
    missing = []
    for host in URLCONFS:
        table = "TENANT_GRAPHQL" if host == "tenant" else "PUBLIC_GRAPHQL"
        for name in enumerate_graphql_fields(host):
            if name not in GRAPHQL_TABLES[host]:
                missing.append(f"  {host} GraphQL query field {name!r} is not in {table}")
    assert not missing, (
        "GraphQL fields nobody has decided who may read:\n" + "\n".join(missing) + "\n"
        + TABLE_HINT.format(table="TENANT_GRAPHQL / PUBLIC_GRAPHQL",
                            example='"myField": OPS | {"viewer"}')
    )


def test_the_table_names_no_route_or_field_that_is_gone() -> None:
    """A stale entry would hide a typo in a new one."""
    stale = []
    for host, urlconf in URLCONFS.items():
        stale += [f"{host} route {n!r}" for n in set(ROUTE_TABLES[host]) - set(enumerate_routes(urlconf))]
        stale += [f"{host} GraphQL field {n!r}"
                  for n in set(GRAPHQL_TABLES[host]) - set(enumerate_graphql_fields(host))]
    assert not stale, "In the table but not in the app (remove or rename): " + ", ".join(stale)


# --------------------------------------------------------------------------------------
# The world walked: principals, objects, the write detector
# --------------------------------------------------------------------------------------


@dataclass
class Principal:
    label: str  # the table's label
    context: str  # "own", "foreign ids", "another Pemda", "another province", ...
    client: Client
    expect_as: str  # whose column of the table applies (ANON for a session of elsewhere)
    foreign_ids: bool = False


def _login(schema: str, username: str, host: str) -> Client:
    from accounts.models import User

    client = Client(HTTP_HOST=host)
    with schema_context(schema):
        client.force_login(User.objects.get(username=username),
                           backend="django.contrib.auth.backends.ModelBackend")
    connection.set_schema_to_public()
    return client


def _tenant(slug: str) -> Any:
    from tenants.models import Tenant

    return Tenant.objects.select_related("region").get(region__slug=slug)


def _host(tenant: Any) -> str:
    return tenant.domains.get(is_primary=True).domain


def tenant_principals(own: Any, other: Any) -> list[Principal]:
    own_host, other_host = _host(own), _host(other)
    people = [Principal(ANON, "anonymous", Client(HTTP_HOST=own_host), ANON)]
    for label, username in TENANT_STAFF.items():
        client = _login(own.schema_name, username, own_host)
        people.append(Principal(label, "own Pemda", client, label))
        people.append(Principal(label, "own Pemda, another Pemda's ids", client, label,
                                foreign_ids=True))
        # The same role of another Pemda (and province), its session brought along.
        people.append(Principal(label, f"{other.region.slug}'s {label} (another Pemda "
                                "and province)", _login(other.schema_name, username, other_host),
                                ANON))
    for label in ("national_officer", "provincial_officer", "provincial_officer_other_province"):
        people.append(Principal(label, "a national-host session",
                                _login("public", PUBLIC_STAFF[label], "localhost"), ANON))
    return people


def public_principals(own: Any) -> list[Principal]:
    people = [Principal(ANON, "anonymous", Client(HTTP_HOST="localhost"), ANON)]
    for label, username in PUBLIC_STAFF.items():
        people.append(Principal(label, "national host", _login("public", username, "localhost"),
                                label))
    for label in ("supervisor", "pemda_admin"):
        people.append(Principal(label, f"{own.region.slug}'s {label}, session brought along",
                                _login(own.schema_name, TENANT_STAFF[label], _host(own)), ANON))
    return people


def _first_id(model: Any, **filters: Any) -> int | None:
    return model.objects.filter(**filters).order_by("pk").values_list("pk", flat=True).first()


def _absent_id(model: Any, own: Any, other: Any) -> int:
    """An id of the other Pemda's schema that the own schema does not hold; where every
    such id also exists here (each schema numbers from 1), one past the own schema's
    last: seen from this host, another Pemda's row is exactly an id it does not have."""
    with schema_context(own.schema_name):
        mine = set(model.objects.values_list("pk", flat=True))
    with schema_context(other.schema_name):
        theirs = set(model.objects.values_list("pk", flat=True))
    spare = sorted(theirs - mine)
    return spare[0] if spare else max(mine | theirs | {0}) + 1


@dataclass
class Objects:
    ids: dict[str, int | str]
    foreign: dict[str, int | str]


def tenant_objects(own: Any, other: Any) -> Objects:
    """Sidoarjo's rows the walk addresses, chosen so the table's columns hold: an
    incident with a Damkar dispatch and none for PSC 119; plus what the demo lacks."""
    from django.utils import timezone

    from billing.models import Invoice
    from incidents.models import (
        Agency,
        AgencyMember,
        Call,
        Category,
        Dispatch,
        HandoverNote,
        Incident,
        NumberBlock,
        PbxCredential,
    )
    from referrals.models import Referral
    from reporting.models import MonthlyReport

    with schema_context(own.schema_name):
        damkar = AgencyMember.objects.select_related("agency").get(user__username="damkar").agency
        psc = AgencyMember.objects.select_related("agency").get(user__username="psc119").agency
        incident = (Incident.objects.filter(dispatches__agency=damkar, closed_at__isnull=True)
                    .exclude(dispatches__agency=psc).order_by("pk").first())
        if incident is None:  # make one: the demo's open incidents may all involve PSC 119
            incident = Incident.objects.create(
                reference="WALK-1", category=Category.objects.first(), priority=2,
                status="open", description="walk")
            Dispatch.objects.create(incident=incident, agency=damkar,
                                    dispatched_at=timezone.now())
        dispatch = Dispatch.objects.filter(incident=incident, agency=damkar).first()
        assert dispatch is not None
        call = Call.objects.order_by("pk").first()
        block = NumberBlock.objects.filter(lifted_at__isnull=True).first()
        if block is None:
            now = timezone.now()
            block = NumberBlock.objects.create(
                number="+6281234500099", blocked_from=now,
                blocked_until=now + timezone.timedelta(hours=24), reason="walk")
        credential = PbxCredential.objects.order_by("pk").first()
        assert call is not None and credential is not None
        assert Agency.objects.exists()
    connection.set_schema_to_public()
    referral = Referral.objects.filter(to_schema=own.schema_name).order_by("pk").first()
    if referral is None:
        referral = Referral.objects.create(from_schema=other.schema_name,
                                           to_schema=own.schema_name, source_incident_id=1,
                                           payload={"category": "fire"})
    foreign_referral = Referral.objects.create(
        from_schema=own.schema_name, to_schema=other.schema_name, source_incident_id=1,
        payload={"category": "fire"})
    report = MonthlyReport.objects.filter(tenant=own).order_by("pk").first()
    foreign_report = MonthlyReport.objects.exclude(tenant=own).order_by("pk").first()
    if foreign_report is None:  # the demo makes Sidoarjo's only
        foreign_report = MonthlyReport.objects.create(
            tenant=other, period_start=timezone.localdate().replace(day=1),
            file=f"reports/{other.schema_name}/walk.pdf")
    invoice = Invoice.objects.filter(tenant=own).order_by("pk").first()
    foreign_invoice = Invoice.objects.exclude(tenant=own).order_by("pk").first()
    subscription, delivery = _webhook(tenant=own)
    note = _handover_note(own)
    foreign_subscription, foreign_delivery = _webhook(tenant=other)
    assert report and foreign_report and invoice and foreign_invoice, (
        "the demo world lacks a monthly report or an invoice of Sidoarjo and another Pemda")
    ids: dict[str, int | str] = {
        "incident_id": incident.pk, "dispatch_id": dispatch.pk, "call_id": call.pk,
        "block_id": block.pk, "credential_id": credential.pk, "referral_id": referral.pk,
        "report_id": report.pk, "invoice_id": invoice.pk, "token": "no-such-invitation",
        "subscription_id": subscription, "delivery_id": delivery, "note_id": note,
    }
    foreign: dict[str, int | str] = {
        "incident_id": _absent_id(Incident, own, other),
        "dispatch_id": _absent_id(Dispatch, own, other),
        "call_id": _absent_id(Call, own, other),
        "block_id": _absent_id(NumberBlock, own, other),
        "credential_id": _absent_id(PbxCredential, own, other),
        "referral_id": foreign_referral.pk, "report_id": foreign_report.pk,
        "invoice_id": foreign_invoice.pk, "token": "no-such-invitation",
        "subscription_id": foreign_subscription, "delivery_id": foreign_delivery,
        "note_id": _absent_id(HandoverNote, own, other),
    }
    connection.set_schema_to_public()
    return Objects(ids, foreign)


def _handover_note(tenant: Any) -> int:
    from incidents.models import HandoverNote

    with schema_context(tenant.schema_name):
        note = HandoverNote.objects.create(text="walk", written_by_name="walk")
    connection.set_schema_to_public()
    return note.pk


def _webhook(*, tenant: Any = None, province: str = "") -> tuple[int, int]:
    """A subscriber and one delivery to it (public schema): the demo seeds none."""
    from webhooks.models import WebhookDelivery, WebhookSubscription

    connection.set_schema_to_public()
    subscription = WebhookSubscription.objects.create(
        scope="tenant" if tenant is not None else "province", tenant=tenant,
        province_id=province or None, name="walk", url="https://example.invalid/hook",
        secret="walk-secret", event_types=["incident.created"])
    delivery = WebhookDelivery.objects.create(
        subscription=subscription, tenant_schema=tenant.schema_name if tenant else "walk",
        event="incident.created", event_id=f"walk-{subscription.pk}",
        delivery_key=f"walk-{subscription.pk}", payload={})
    return subscription.pk, delivery.pk


def public_objects() -> Objects:
    from billing.models import Invoice

    invoice = _first_id(Invoice)
    assert invoice is not None
    subscription, delivery = _webhook(province=PUBLIC_PROVINCE)
    ids: dict[str, int | str] = {"invoice_id": invoice, "token": "no-such-invitation",
                                 "subscription_id": subscription, "delivery_id": delivery}
    return Objects(ids, ids)


IGNORED_TABLES = ("django_session", "axes_accessattempt", "axes_accessfailurelog",
                  "axes_accesslog")


def _writes() -> dict[str, int]:
    """Rows inserted, updated or deleted so far in this transaction, per table, in the
    public schema and both Pemda schemas (rolled-back savepoints included: a denied
    request may not even try). The same counters as `pg_stat_xact_user_tables`, read
    for the watched tables' oids only: the view scans all of pg_class (~150 Pemda
    schemas here) on every call, 20 ms a POST of the walk."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, n FROM (SELECT w.name, pg_stat_get_xact_tuples_inserted(w.oid)"
            " + pg_stat_get_xact_tuples_updated(w.oid)"
            " + pg_stat_get_xact_tuples_deleted(w.oid) AS n"
            " FROM unnest(%s::oid[], %s::text[]) AS w(oid, name)) AS counted WHERE n > 0",
            [list(_WATCHED_TABLES), list(_WATCHED_TABLES.values())],
        )
        return dict(cursor.fetchall())


_WATCHED: list[str] = []
_WATCHED_TABLES: dict[int, str] = {}  # oid -> "schema.table", of the schemas in _WATCHED


def _watch(schemas: list[str]) -> None:
    """The tables `_writes` counts: every table of these schemas (the relkinds of
    `pg_stat_xact_user_tables`), but the session and login-attempt tables."""
    _WATCHED[:] = schemas
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.oid, n.nspname || '.' || c.relname FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = ANY(%s) AND c.relkind IN ('r', 't', 'm', 'p')"
            " AND NOT c.relname = ANY(%s)",
            [schemas, list(IGNORED_TABLES)],
        )
        _WATCHED_TABLES.clear()
        _WATCHED_TABLES.update(dict(cursor.fetchall()))
    assert len(_WATCHED_TABLES) > 3 * 20, "the walk watches too few tables"


# --------------------------------------------------------------------------------------
# Judging a response
# --------------------------------------------------------------------------------------


def _to_login(response: Any) -> bool:
    return response.status_code == 302 and "/accounts/login/" in response.get("Location", "")


def _denied(response: Any) -> bool:
    return _to_login(response) or response.status_code in (401, 403, 404, 405)


PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>[^>]+)>")


def build_path(route: str, values: dict[str, int | str]) -> str | None:
    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in values:
            raise KeyError(name)
        return str(values[name])

    try:
        return "/" + PARAM.sub(fill, route)
    except KeyError:
        return None


def _rules(entry: Rule | list[Rule]) -> list[Rule]:
    return entry if isinstance(entry, list) else [entry]


def walk_routes(host: str, principals: list[Principal], objects: Objects,
                extra_host: str) -> list[str]:
    problems: list[str] = []
    routes = enumerate_routes(URLCONFS[host])
    table = ROUTE_TABLES[host]
    for name, route in sorted(routes.items()):
        if name not in table:
            continue  # reported by test_every_route_of_both_urlconfs_is_in_the_table
        has_id = PARAM.search(route) is not None and any(
            p in route for p in objects.ids if p != "token")
        for rule in _rules(table[name]):
            # Denied people first: a permitted empty POST may change what the next sees.
            ordered = sorted(principals, key=lambda p: p.expect_as in rule.post_allowed)
            with transaction.atomic():
                for who in ordered:
                    if who.foreign_ids and not has_id:
                        continue
                    ids = {**(objects.foreign if who.foreign_ids else objects.ids),
                           **rule.params}
                    path = build_path(route, ids)
                    assert path is not None, (
                        f"{host} route {name!r} (/{route}) has a path parameter the walk "
                        "cannot fill: give it in the table (params=...) or in tenant_objects")
                    problems += _check(host, name, rule, who, path, extra_host)
                transaction.set_rollback(True)
    return problems


def _check(host: str, name: str, rule: Rule, who: Principal, path: str,
           extra_host: str) -> list[str]:
    problems: list[str] = []
    label = f"{host} {name!r} {{method}} {path} as {who.label} ({who.context})"
    kwargs = {"HTTP_HOST": extra_host}
    response = who.client.get(path, **kwargs)
    may_get = who.expect_as in rule.allowed and not who.foreign_ids
    if response.status_code >= 500:
        problems.append(f"{label.format(method='GET')}: {response.status_code}")
    elif rule.kind == "open":
        pass
    elif rule.kind == "write":
        if response.status_code != 405 and not _denied(response):
            problems.append(f"{label.format(method='GET')}: a POST-only route answered "
                            f"{response.status_code}")
    elif may_get and (_denied(response) or response.status_code not in (200, 302)):
        problems.append(f"{label.format(method='GET')}: may, got {response.status_code} "
                        f"{response.get('Location', '')}")
    elif not may_get and not _denied(response):
        problems.append(f"{label.format(method='GET')}: may NOT, got "
                        f"{response.status_code} {response.get('Location', '')}")
    if rule.kind not in ("write", "form"):
        return problems
    may_post = who.expect_as in rule.post_allowed and not who.foreign_ids
    before = _writes()
    response = who.client.post(path, {}, **kwargs)
    written = {t: n - before.get(t, 0) for t, n in _writes().items() if n != before.get(t, 0)}
    if response.status_code >= 500:
        problems.append(f"{label.format(method='POST')}: {response.status_code}")
    elif may_post and _denied(response):
        problems.append(f"{label.format(method='POST')}: may, got {response.status_code}")
    elif not may_post:
        if not _denied(response):
            problems.append(f"{label.format(method='POST')}: may NOT, got "
                            f"{response.status_code} {response.get('Location', '')}")
        if written:
            problems.append(f"{label.format(method='POST')}: denied, yet wrote {written}")
    return problems


# --------------------------------------------------------------------------------------
# The walks
# --------------------------------------------------------------------------------------


@pytest.fixture
def world(db) -> Iterator[dict[str, Any]]:
    own, other = _tenant(OWN_SLUG), _tenant(OTHER_SLUG)
    _watch(["public", own.schema_name, other.schema_name])
    yield {"own": own, "other": other}
    connection.set_schema_to_public()


def _report(problems: list[str]) -> str:
    return (f"{len(problems)} access problems (table: tests/security/test_access_walk.py):\n"
            + "\n".join(problems[:80]))


def test_walk_every_tenant_route_with_every_role(world: dict[str, Any]) -> None:
    own, other = world["own"], world["other"]
    objects = tenant_objects(own, other)
    problems = walk_routes("tenant", tenant_principals(own, other), objects, _host(own))
    assert not problems, _report(problems)


def test_walk_every_public_route_with_every_role(world: dict[str, Any]) -> None:
    problems = walk_routes("public", public_principals(world["own"]), public_objects(),
                           "localhost")
    assert not problems, _report(problems)


# --------------------------------------------------------------------------------------
# GraphQL: every query field, both endpoints
# --------------------------------------------------------------------------------------


def _unwrap(gtype: Any) -> Any:
    while hasattr(gtype, "of_type"):
        gtype = gtype.of_type
    return gtype


# A page of rows (relay connection, change feed) is "data" only when its list has rows:
# a refused reader gets the same shape with an empty list.
PAGE_LISTS = ("edges", "events")


def _selection(gtype: Any) -> str:
    inner = _unwrap(gtype)
    fields = getattr(inner, "fields", None)
    if not fields:
        return ""
    for name in PAGE_LISTS:
        if name in fields:
            return f"{{ {name} {{ __typename }} }}"
    scalars = [n for n, f in fields.items() if not hasattr(_unwrap(f.type), "fields")]
    return "{ " + " ".join(scalars or ["__typename"]) + " }"


def _graphql_args(host: str, field_name: str, gfield: Any, ids: dict[str, Any]) -> str:
    # Required arguments only: an optional filter would change what "data" means.
    values = {"regionCode": PUBLIC_PEMDA, "id": ids.get("incident_id")}
    parts = []
    for arg_name, arg in gfield.args.items():
        if not str(arg.type).endswith("!"):
            continue
        value = values.get(arg_name)
        if value is None:
            raise AssertionError(
                f"{host} GraphQL field {field_name}({arg_name}) is required and the walk "
                "has no value for it: add one in _graphql_args")
        parts.append(f"{arg_name}: {json.dumps(str(value))}")
    return f"({', '.join(parts)})" if parts else ""


def _has_data(value: Any) -> bool:
    if isinstance(value, dict) and value and set(value) <= set(PAGE_LISTS):
        return any(_has_data(v) for v in value.values())
    return value not in (None, [], {})


def walk_graphql(host: str, principals: list[Principal], objects: Objects,
                 extra_host: str) -> list[str]:
    problems = []
    fields = enumerate_graphql_fields(host)
    for name, gfield in sorted(fields.items()):
        if name not in GRAPHQL_TABLES[host]:
            continue  # reported by test_every_graphql_query_field_of_both_schemas_is_in_the_table
        allowed = GRAPHQL_TABLES[host][name]
        for who in principals:
            required = [a for a in gfield.args.values() if str(a.type).endswith("!")]
            if who.foreign_ids and not required:
                continue
            ids = objects.foreign if who.foreign_ids else objects.ids
            args = _graphql_args(host, name, gfield, ids)
            query = f"{{ {name}{args} {_selection(gfield.type)} }}"
            response = who.client.post("/graphql/", json.dumps({"query": query}),
                                       content_type="application/json", HTTP_HOST=extra_host)
            where = f"{host} GraphQL {query} as {who.label} ({who.context})"
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code}")
                continue
            body = json.loads(response.content)
            got = _has_data((body.get("data") or {}).get(name))
            may = who.expect_as in allowed and not who.foreign_ids
            if may and not got:
                problems.append(f"{where}: may, got no data: {body}")
            elif not may and got:
                problems.append(f"{where}: may NOT, got data: {str(body)[:200]}")
    return problems


def test_walk_every_tenant_graphql_field_with_every_role(world: dict[str, Any]) -> None:
    own, other = world["own"], world["other"]
    objects = tenant_objects(own, other)
    problems = walk_graphql("tenant", tenant_principals(own, other), objects, _host(own))
    assert not problems, _report(problems)


def test_walk_every_public_graphql_field_with_every_role(world: dict[str, Any]) -> None:
    problems = walk_graphql("public", public_principals(world["own"]), public_objects(),
                            "localhost")
    assert not problems, _report(problems)


def test_the_write_detector_sees_a_permitted_write(world: dict[str, Any]) -> None:
    """The denied-POST check above is only worth something if `_writes` sees a write a
    request makes: a supervisor lifting a number block is one."""
    own, other = world["own"], world["other"]
    objects = tenant_objects(own, other)
    supervisor = _login(own.schema_name, TENANT_STAFF["supervisor"], _host(own))
    before = _writes()
    response = supervisor.post(f"/blocks/{objects.ids['block_id']}/lift/", {})
    assert response.status_code in (200, 302), response.status_code
    after = _writes()
    changed = {t for t, n in after.items() if n != before.get(t, 0)}
    assert f"{own.schema_name}.incidents_numberblock" in changed, changed
