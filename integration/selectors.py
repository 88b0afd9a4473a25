"""Reads of the integration API."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import Role
from integration.models import ProvinceIncidentEvent
from tenants.models import Tenant

# The feeds serve rows whose writing transaction is below this horizon: every
# transaction of this database still running when the statement began has a
# txid at or above it, so whatever commits later sorts after a reader's cursor.
# It is pg_snapshot_xmin() without the transactions that pg_stat_activity shows
# in *another* database (they cannot write our tables, and a long one, e.g. a
# bulk load next door, would otherwise hold every feed back); a transaction it
# cannot place (ended meanwhile, stats hidden, prepared) counts as ours.
FEED_HORIZON = """(
  SELECT LEAST(
    pg_snapshot_xmax(snap.s)::text::bigint,
    (SELECT min(x::text::bigint) FROM pg_snapshot_xip(snap.s) AS x
     WHERE NOT EXISTS (
       SELECT 1 FROM pg_stat_activity AS a
       WHERE a.datname IS DISTINCT FROM current_database()
         AND a.backend_xid::text::bigint = (x::text::bigint & 4294967295)))
  )
  FROM (SELECT pg_current_snapshot() AS s) AS snap
)"""
HORIZON = FEED_HORIZON


def province_scope_of(user: Any) -> tuple[bool, str | None]:
    """(may read the provincial feed, the one province it is limited to or None
    for all). Province tokens and provincial officers: their province; national
    tokens (which act as the auditor) and national officers: every province."""
    if user is None or not user.is_authenticated:
        return False, None
    if user.has_role(Role.PROVINCIAL_OFFICER):
        return True, getattr(user, "region_id", None)
    if user.has_role(Role.NATIONAL_OFFICER, Role.AUDITOR):
        return True, None
    return False, None


def province_events(
    *, province: str | None, after: tuple[int, int] | None, limit: int
) -> list[ProvinceIncidentEvent]:
    """Committed changes of live Pemda, in commit order, after the cursor."""
    live = Tenant.objects.filter(status=Tenant.Status.LIVE).values("schema_name")
    query: QuerySet[ProvinceIncidentEvent] = ProvinceIncidentEvent.objects.filter(
        txid__lt=RawSQL(HORIZON, []), schema_name__in=live
    )
    if province is not None:
        query = query.filter(province_code=province)
    if after is not None:
        query = query.filter(Q(txid__gt=after[0]) | Q(txid=after[0], pk__gt=after[1]))
    return list(query.order_by("txid", "pk")[:limit])
