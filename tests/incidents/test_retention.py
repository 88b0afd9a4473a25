"""Personal data past the Pemda's retention period (UU 27/2022): caller numbers
pseudonymised in incidents, calls, AML reports, number blocks and inside the
row history; AML raw payloads (IMEI, IMSI) emptied; rows and counts kept; the
purge audited; the period a bounded setting of the Pemda admin; a daily beat
job that fans out per tenant."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_tenants.utils import schema_context

from accounts.models import User
from audit.models import AuditEntry, RowHistory
from incidents.models import AmlReport, Call, Incident, IncidentSettings, NumberBlock
from incidents.services import incidents as incident_services
from incidents.services.retention import personal_data_purge, pseudonym
from incidents.tasks import purge_personal_data, purge_personal_data_all

OLD = "+6281299887701"
RECENT = "+6281299887702"
RAW_AML = 'A"ML=1;lt=+02.64;lg=+098.64;rd=20;top=20250101120000;lc=90;pm=G;si=510101234567890;ei=356938035643809;mcc=510;mnc=10;ml=128'


def _incident(op: User, caller: str, age_days: int) -> Incident:
    incident = incident_services.incident_create(
        data=incident_services.IncidentInput(
            category="fire", description="retention probe", latitude=2.64, longitude=98.64,
            address="r", caller=caller, idempotency_key=f"ret-{uuid.uuid4().hex[:20]}"),
        actor=op, is_test=True, force=True).incident
    when = timezone.now() - timedelta(days=age_days)
    Incident.objects.filter(pk=incident.pk).update(created_at=when)
    return incident


def _world(age_old: int = 400) -> dict:
    op = User.objects.get(username="operator1")
    now = timezone.now()
    old_at = now - timedelta(days=age_old)
    old = _incident(op, OLD, age_old)
    recent = _incident(op, RECENT, 3)
    calls = [
        Call.objects.create(external_id=f"ret-{uuid.uuid4().hex}", caller=OLD, ringing_at=old_at),
        Call.objects.create(external_id=f"ret-{uuid.uuid4().hex}", caller=OLD,
                            ringing_at=old_at + timedelta(hours=1)),
        Call.objects.create(external_id=f"ret-{uuid.uuid4().hex}", caller=RECENT, ringing_at=now),
    ]
    aml_old = AmlReport.objects.create(caller=OLD, latitude=2.64, longitude=98.64, radius_m=20,
                                       source="gnss", position_time=old_at, channel="sms",
                                       raw=RAW_AML, received_at=old_at)
    aml_new = AmlReport.objects.create(caller=RECENT, latitude=2.64, longitude=98.64, radius_m=20,
                                       source="gnss", position_time=now, channel="sms",
                                       raw=RAW_AML, received_at=now)
    block = NumberBlock.objects.create(number=OLD, blocked_from=old_at,
                                       blocked_until=old_at + timedelta(hours=24))
    return {"old": old, "recent": recent, "calls": calls, "aml_old": aml_old,
            "aml_new": aml_new, "block": block}


@pytest.mark.django_db
def test_the_purge_pseudonymises_what_is_past_retention_and_keeps_the_rest(tenant_a):
    with schema_context(tenant_a.schema_name):
        w = _world()
        total_calls = Call.objects.count()
        total_incidents = Incident.objects.count()
        assert RowHistory.objects.filter(table_name="incidents_incident",
                                         row_pk=str(w["old"].pk), after__caller=OLD).exists()

        result = personal_data_purge()

        alias = pseudonym(OLD)
        assert alias.startswith("#") and len(alias) == 20 and OLD not in alias
        w["old"].refresh_from_db()
        w["recent"].refresh_from_db()
        assert w["old"].caller == alias
        assert w["recent"].caller == RECENT
        callers = [Call.objects.get(pk=c.pk).caller for c in w["calls"]]
        # The same number gets the same pseudonym: "calls from one number" still groups.
        assert callers == [alias, alias, RECENT]
        aml_old = AmlReport.objects.get(pk=w["aml_old"].pk)
        assert (aml_old.caller, aml_old.raw) == (alias, "")
        aml_new = AmlReport.objects.get(pk=w["aml_new"].pk)
        assert (aml_new.caller, aml_new.raw) == (RECENT, RAW_AML)
        assert NumberBlock.objects.get(pk=w["block"].pk).number == alias
        # Nothing deleted: the KPIs count the same rows.
        assert (Call.objects.count(), Incident.objects.count()) == (total_calls, total_incidents)
        # No history image of the old incident still holds the number; the recent one's does.
        old_images = RowHistory.objects.filter(table_name="incidents_incident",
                                               row_pk=str(w["old"].pk))
        assert old_images.count() >= 2
        assert OLD not in str([(h.before, h.after) for h in old_images])
        assert RowHistory.objects.filter(table_name="incidents_incident",
                                         row_pk=str(w["recent"].pk), after__caller=RECENT).exists()
        assert result.incidents >= 1 and result.calls >= 2
        assert result.aml_reports >= 1 and result.aml_raw_emptied >= 1
        assert result.number_blocks >= 1 and result.history_rows >= 2
        # The purge audits itself: cutoff and counts.
        entry = AuditEntry.objects.filter(action="personal_data.purged").latest("id")
        assert entry.actor_username == "" and entry.target_type == "retention"
        assert entry.after["retention_days"] == 365
        assert entry.after["calls"] == result.calls
        assert entry.after["cutoff"].startswith(str(result.cutoff.date()))
        # The permission ended with the purge: history is append-only again.
        from django.db import DatabaseError, connection, transaction
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_rowhistory")

        # A second run finds nothing left to do.
        again = personal_data_purge()
        assert (again.incidents, again.calls, again.aml_reports, again.aml_raw_emptied,
                again.number_blocks, again.history_rows) == (0, 0, 0, 0, 0, 0)


@pytest.mark.django_db
def test_the_period_is_the_pemdas_own(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        w = _world(age_old=120)
        IncidentSettings.objects.filter(pk=1).update(personal_data_retention_days=100)
        personal_data_purge()
        w["old"].refresh_from_db()
        assert w["old"].caller == pseudonym(OLD)
    with schema_context(tenant_b.schema_name):
        w = _world(age_old=120)  # Sidoarjo keeps the default 365 days
        personal_data_purge()
        w["old"].refresh_from_db()
        assert w["old"].caller == OLD
        # A pseudonym does not link one Pemda's callers to another's.
        assert pseudonym(OLD) != pseudonym(OLD, schema=tenant_a.schema_name)


def test_the_retention_setting_is_bounded_and_the_admins(tenant_a, as_user):
    admin = as_user(tenant_a, "admin")
    assert "personal_data_retention_days" in admin.get("/manage/settings/").content.decode()
    for bad in ("30", "5000", "lama"):
        response = admin.post("/manage/settings/", {"personal_data_retention_days": bad},
                              HTTP_ACCEPT="application/json")
        assert response.status_code == 400, bad
        assert response.json()["field"] == "personal_data_retention_days"
    with schema_context(tenant_a.schema_name):
        assert IncidentSettings.load().personal_data_retention_days == 365
    for username in ("operator1", "supervisor", "bupati", "damkar"):
        response = as_user(tenant_a, username).post("/manage/settings/",
                                                    {"personal_data_retention_days": "200"})
        assert response.status_code in (302, 403), username
        with schema_context(tenant_a.schema_name):
            assert IncidentSettings.load().personal_data_retention_days == 365
    assert admin.post("/manage/settings/", {"personal_data_retention_days": "200"}).status_code == 302
    with schema_context(tenant_a.schema_name):
        assert IncidentSettings.load().personal_data_retention_days == 200
        assert AuditEntry.objects.filter(action="settings.updated").latest("id").after == {
            "personal_data_retention_days": 200}


@pytest.mark.django_db
def test_the_daily_beat_job_fans_out_to_every_pemda(tenant_a):
    entry = settings.CELERY_BEAT_SCHEDULE["incidents-purge-personal-data"]
    assert entry["task"] == purge_personal_data_all.name == "incidents.purge_personal_data_all"
    assert entry["schedule"] == 24 * 3600.0
    with schema_context(tenant_a.schema_name):
        w = _world()
        counts = purge_personal_data.apply().get()
        assert counts["incidents"] >= 1 and counts["calls"] >= 2
        w["old"].refresh_from_db()
        assert w["old"].caller == pseudonym(OLD)
