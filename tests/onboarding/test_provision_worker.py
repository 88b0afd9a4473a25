"""The real path: entering installation enqueues tenants.provision after commit,
and a real Celery worker (real Redis broker) provisions the Pemda's tenant."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django_tenants.utils import schema_exists

from accounts.models import AdminInvitation
from onboarding.models import (
    Application,
    Operator,
    OperatorRouting,
    PemdaOnboarding,
    Stage,
    TimelineEntry,
    VerificationVisit,
)
from onboarding.services import (
    application_save,
    onboarding_advance,
    operator_routing_save,
    verification_visit_record,
)
from tenants.models import Domain, Region, Tenant


@pytest.mark.worker
def test_advancing_into_installation_provisions_through_the_worker(committed, pdf_bytes):
    from siaga112.celery import app

    from accounts.models import User

    region = Region.objects.get(name="Kabupaten Pandeglang")
    code = region.code
    before = PemdaOnboarding.objects.get(pk=code)
    assert before.stage == Stage.NOT_STARTED and not Tenant.objects.filter(region=region).exists()
    actor = User.objects.get(username="nasional")
    today = dt.date.today()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING",
                          shutdown_timeout=10):
            application_save(
                region_code=code, actor=actor, letter=SimpleUploadedFile("s.pdf", pdf_bytes),
                letter_number="1/2025", letter_date=today, contact_name="A", contact_phone="1",
                contact_email="tik@pandeglangkab.go.id", network_scheme="sip_trunk",
                address="Pandeglang", latitude="-6.31", longitude="106.10",
            )
            for _ in range(2):
                version = PemdaOnboarding.objects.get(pk=code).version
                onboarding_advance(region_code=code, actor=actor, expected_version=version)
            verification_visit_record(
                region_code=code, actor=actor, visited_on=today, verifier="Tim",
                supervisors=1, agents=4, opd_teams=5, result="passed", notes="",
            )
            for op in Operator:
                operator_routing_save(region_code=code, actor=actor, operator=op.value,
                                      letter_date=today, routing_opened_on=None)
            version = PemdaOnboarding.objects.get(pk=code).version
            result = onboarding_advance(region_code=code, actor=actor, expected_version=version)
            assert result.to_stage == Stage.INSTALLATION
            deadline = time.monotonic() + 30
            tenant = None
            while time.monotonic() < deadline:
                tenant = Tenant.objects.filter(region=region).first()
                if tenant is not None and schema_exists(tenant.schema_name):
                    break
                time.sleep(0.1)
            assert tenant is not None and schema_exists(tenant.schema_name), "worker did not provision"
            assert tenant.schema_name == "pemda_36_01"
            assert Domain.objects.get(tenant=tenant).domain == "pandeglang.localhost"
            assert tenant.status == Tenant.Status.INSTALLED
    finally:
        connection.set_schema_to_public()
        tenant = Tenant.objects.filter(region=region).first()
        if tenant is not None:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{tenant.schema_name}" CASCADE')
            Domain.objects.filter(tenant=tenant).delete()
            Tenant.objects.filter(pk=tenant.pk).delete()
        AdminInvitation.objects.filter(region=region).delete()
        app_row = Application.objects.filter(onboarding_id=code).first()
        if app_row is not None and app_row.letter:
            app_row.letter.delete(save=False)
        Application.objects.filter(onboarding_id=code).delete()
        VerificationVisit.objects.filter(onboarding_id=code).delete()
        OperatorRouting.objects.filter(onboarding_id=code).delete()
        TimelineEntry.objects.filter(onboarding_id=code).delete()
        PemdaOnboarding.objects.filter(pk=code).update(
            stage=before.stage, version=before.version, stage_entered_at=before.stage_entered_at)
