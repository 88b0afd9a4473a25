"""Personal data past its retention period (UU 27/2022), in the current Pemda schema.

After `IncidentSettings.personal_data_retention_days` the caller numbers of
incidents, calls, AML reports and number blocks are replaced by a keyed
pseudonym, and AML raw payloads (which carry the handset's IMEI and IMSI) are
emptied. Rows are kept, so every count the KPIs and rollups make stays the
same, and the pseudonym is the same for the same number in the same Pemda, so
"calls from one number" still groups. The key is derived from SECRET_KEY and
the schema name: the pseudonym cannot be reversed without the key and does not
link one Pemda's callers to another's.

The row history (audit.history) holds the old numbers too, so the purge
pseudonymises them there, which the history table only allows with
`SET LOCAL siaga112.purge = 'on'`. The setting is switched off again before the
block ends; a failure rolls the block back to its savepoint, which undoes the
SET LOCAL as well, so the permission never outlives the purge even when it runs
inside a caller's transaction. The purge writes its own audit row (cutoff and
counts).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.crypto import salted_hmac

from audit.models import RowHistory
from audit.services import Target, record
from incidents.models import AmlReport, Call, Incident, IncidentSettings, NumberBlock
from tenants.db import current_schema

logger = logging.getLogger(__name__)

PSEUDONYM_PREFIX = "#"
# A stored number that is not a pseudonym yet: digits, maybe after a "+".
_RAW_NUMBER = r"^\+?[0-9]"


def pseudonym(number: str, *, schema: str | None = None) -> str:
    """The stand-in for `number` in this Pemda: '#' and 19 hex digits (fits the
    20-character caller columns). Empty and already pseudonymised values stay."""
    if not number or number.startswith(PSEUDONYM_PREFIX):
        return number
    where = schema or current_schema()
    digest = salted_hmac(f"siaga112.caller-pseudonym.{where}", number, algorithm="sha256")
    return PSEUDONYM_PREFIX + digest.hexdigest()[:19]


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime
    retention_days: int
    incidents: int
    calls: int
    aml_reports: int  # caller pseudonymised
    aml_raw_emptied: int  # raw payload (IMEI, IMSI) removed
    number_blocks: int
    history_rows: int


def _pseudonymise(queryset: QuerySet[Any], field: str) -> int:
    """One UPDATE per distinct number (the pseudonym is computed in Python)."""
    changed = 0
    numbers = (
        queryset.filter(**{f"{field}__regex": _RAW_NUMBER})
        .order_by()
        .values_list(field, flat=True)
        .distinct()
    )
    for number in list(numbers):
        changed += queryset.filter(**{field: number}).update(**{field: pseudonym(number)})
    return changed


def _pseudonymise_history(cutoff: datetime) -> int:
    """Caller numbers inside incident row images: those of incidents created
    before the cutoff, and any image written before it (a deleted incident)."""
    old_ids = (
        Incident.objects.filter(created_at__lt=cutoff)
        .annotate(pk_text=Cast("id", CharField()))
        .values("pk_text")
    )
    rows = list(
        RowHistory.objects.filter(table_name="incidents_incident")
        .filter(Q(row_pk__in=old_ids) | Q(at__lt=cutoff))
        .filter(Q(before__caller__regex=_RAW_NUMBER) | Q(after__caller__regex=_RAW_NUMBER))
    )
    for row in rows:
        for image in (row.before, row.after):
            if image and isinstance(image.get("caller"), str):
                image["caller"] = pseudonym(image["caller"])
    RowHistory.objects.bulk_update(rows, ["before", "after"], batch_size=500)
    return len(rows)


def personal_data_purge(*, now: datetime | None = None) -> PurgeResult:
    """Pseudonymise this Pemda's personal data older than its retention period."""
    cfg = IncidentSettings.load()
    days = cfg.personal_data_retention_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL siaga112.purge = 'on'")
        incidents = _pseudonymise(Incident.objects.filter(created_at__lt=cutoff), "caller")
        calls = _pseudonymise(Call.objects.filter(ringing_at__lt=cutoff), "caller")
        aml_old = AmlReport.objects.filter(received_at__lt=cutoff)
        aml = _pseudonymise(aml_old, "caller")
        aml_raw = aml_old.exclude(raw="").update(raw="")
        blocks = _pseudonymise(NumberBlock.objects.filter(blocked_until__lt=cutoff), "number")
        history = _pseudonymise_history(cutoff)
        cursor.execute("SET LOCAL siaga112.purge = 'off'")
        result = PurgeResult(
            cutoff=cutoff,
            retention_days=days,
            incidents=incidents,
            calls=calls,
            aml_reports=aml,
            aml_raw_emptied=aml_raw,
            number_blocks=blocks,
            history_rows=history,
        )
        record(
            actor=None,
            action="personal_data.purged",
            target=Target("retention", current_schema(), f"{days} days"),
            after=asdict(result),
        )
    logger.info("personal_data.purged", extra={k: str(v) for k, v in asdict(result).items()})
    return result
