"""Times that say their zone: Indonesia has three (WIB, WITA, WIT), and a national
officer in Jakarta reading Kotamobagu's timeline must not guess which one.

    {% load zoned %}
    {{ entry.at|zoned }}                   2026-03-17 14:05 WIB  (the active zone)
    {{ entry.at|zoned:region.timezone }}   2026-03-17 15:05 WITA (the region's zone)
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format

from tenants.models import Region

register = template.Library()

FORMAT = "Y-m-d H:i"


def zone_abbreviation(zone: dt.tzinfo, at: dt.datetime | None = None) -> str:
    """WIB/WITA/WIT for Indonesia's zones, else the zone's own abbreviation."""
    key = str(getattr(zone, "key", "") or "")
    if key in Region.TimeZone.values:
        return str(Region.TimeZone(key).label)
    return (at or timezone.now()).astimezone(zone).tzname() or key


def _zone(name: str | None) -> dt.tzinfo:
    if name:
        try:
            return zoneinfo.ZoneInfo(str(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return timezone.get_current_timezone()


@register.filter
def zoned(value: dt.datetime | None, zone: str | None = None) -> str:
    if not isinstance(value, dt.datetime):
        return ""
    tz = _zone(zone)
    local = timezone.localtime(value, tz) if timezone.is_aware(value) else value
    return f"{date_format(local, FORMAT)} {zone_abbreviation(tz, value)}"


@register.simple_tag
def zone_now(zone: str | None = None) -> str:
    """The present moment with its zone: 'data as of …' lines."""
    return zoned(timezone.now(), zone)
