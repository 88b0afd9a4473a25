"""Celery tasks of 112 operations: take ids, call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django_tenants.utils import schema_context

from incidents.services import presence as presence_services
from incidents.services import retention
from incidents.services.calls import calls_mark_missed
from incidents.services.dispatching import dispatches_escalate
from tenants.selectors import pemda_tenants

logger = logging.getLogger(__name__)


@shared_task(name="incidents.escalate_overdue_all")
def escalate_overdue_all() -> int:
    """Public-schema beat job: one escalation task per tenant in trial or live."""
    schemas = list(pemda_tenants(operating=True).values_list("schema_name", flat=True))
    for schema in schemas:
        # The tenant-aware app stamps the current schema on the message.
        with schema_context(schema):
            escalate_overdue.delay()
    return len(schemas)


@shared_task(name="incidents.escalate_overdue")
def escalate_overdue() -> int:
    """Runs in one tenant's schema: mark its overdue dispatches escalated."""
    return dispatches_escalate()


@shared_task(name="incidents.mark_missed_all")
def mark_missed_all() -> int:
    """Public-schema beat job: one missed-call task per tenant in trial or live."""
    schemas = list(pemda_tenants(operating=True).values_list("schema_name", flat=True))
    for schema in schemas:
        with schema_context(schema):
            mark_missed.delay()
    return len(schemas)


@shared_task(name="incidents.mark_missed")
def mark_missed() -> int:
    """Runs in one tenant's schema: its calls ringing past the Pemda's limit are missed."""
    return calls_mark_missed()


@shared_task(name="incidents.presence_expire_all")
def presence_expire_all() -> int:
    """Public-schema beat job: one presence check per tenant in trial or live."""
    schemas = list(pemda_tenants(operating=True).values_list("schema_name", flat=True))
    for schema in schemas:
        with schema_context(schema):
            presence_expire.delay()
    return len(schemas)


@shared_task(name="incidents.presence_expire")
def presence_expire() -> int:
    """Runs in one tenant's schema: available call-takers without a heartbeat go away."""
    return presence_services.presence_expire_stale()


@shared_task(name="incidents.purge_personal_data_all")
def purge_personal_data_all() -> int:
    """Public-schema beat job: one retention purge per Pemda schema (suspended
    ones too: their data ages the same)."""
    schemas = list(pemda_tenants(operating=False).values_list("schema_name", flat=True))
    for schema in schemas:
        with schema_context(schema):
            purge_personal_data.delay()
    return len(schemas)


@shared_task(name="incidents.purge_personal_data")
def purge_personal_data() -> dict[str, int]:
    """Runs in one tenant's schema: pseudonymise what is past its retention."""
    result = retention.personal_data_purge()
    return {
        "incidents": result.incidents,
        "calls": result.calls,
        "aml_reports": result.aml_reports,
        "aml_raw_emptied": result.aml_raw_emptied,
        "number_blocks": result.number_blocks,
        "history_rows": result.history_rows,
    }
