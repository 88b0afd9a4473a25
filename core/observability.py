"""Logs and error reports without personal data (UU 27/2022).

Caller numbers and names must not reach a log line or Sentry. Scrubbing is
done on the way out, in one place, so a careless `extra=` cannot leak them.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from typing import Any

# Indonesian and international phone numbers as people type them:
# +62 812-3456-7890, 0812 3456 7890, 62812..., (021) 555-1234.
PHONE_RE = re.compile(r"(?<![\w.])(?:\+?\d[\d\s().-]{6,}\d)(?![\w.])")
ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")
FILTERED = "[Filtered]"
# Keys whose values are personal data whatever they look like.
PERSONAL_KEYS = {
    "caller_number", "caller_name", "phone", "phone_number", "msisdn", "number",
    "name", "full_name", "first_name", "last_name", "reporter_name", "contact_name",
    "contact_phone", "email", "password", "device_number", "imei", "imsi", "address",
}


def scrub_text(text: str) -> str:
    def _replace(match: re.Match[str]) -> str:
        text = match.group(0)
        digits = re.sub(r"\D", "", text)
        # Ids and amounts are short runs of digits and dates have a shape of their
        # own; the shortest Indonesian number with its area code has 9 digits.
        if len(digits) < 9 or ISO_DATE_RE.match(text):
            return text
        return FILTERED

    return PHONE_RE.sub(_replace, text)


def scrub(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in PERSONAL_KEYS:
        return FILTERED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub(v) for v in value)
    return value


def _current_schema() -> str | None:
    try:
        from django.db import connection

        return getattr(connection, "schema_name", None)
    except Exception:  # noqa: BLE001 - reporting must never fail the report
        return None


def before_send(event: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Tag the tenant schema and scrub personal data from every event."""
    schema = _current_schema()
    if schema:
        event.setdefault("tags", {})["tenant_schema"] = schema
    for field in ("message", "logentry", "extra", "contexts", "request", "breadcrumbs", "user"):
        if field in event:
            event[field] = scrub(event[field])
    for exc in (event.get("exception") or {}).get("values", []) or []:
        if isinstance(exc.get("value"), str):
            exc["value"] = scrub_text(exc["value"])
        for frame in (exc.get("stacktrace") or {}).get("frames", []) or []:
            if "vars" in frame:
                frame["vars"] = scrub(frame["vars"])
    return event


def init_sentry(*, dsn: str, environment: str, transport: Any = None) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    options: dict[str, Any] = {
        "dsn": dsn,
        "environment": environment,
        # PII is off by default (send_default_pii is deprecated); before_send scrubs the rest.
        "before_send": before_send,
        "before_breadcrumb": lambda crumb, hint: scrub(crumb),
        "integrations": [DjangoIntegration(), CeleryIntegration()],
        "traces_sample_rate": 0.0,
    }
    if transport is not None:
        options["transport"] = transport
    sentry_sdk.init(**options)


class ScrubPersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = scrub_text(record.msg)
        if record.args:
            record.args = tuple(scrub(a) for a in record.args) if isinstance(
                record.args, tuple
            ) else scrub(record.args)
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS:
                record.__dict__[key] = scrub(value, key)
        return True


_STANDARD_ATTRS = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}


class StructuredFormatter(logging.Formatter):
    """One JSON object a line: event name plus the `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        schema = _current_schema()
        if schema and schema != "public":
            payload["schema"] = schema
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = scrub_text(self.formatException(record.exc_info))
        return json.dumps(payload, default=str, ensure_ascii=False)
