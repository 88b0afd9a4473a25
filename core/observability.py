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
from urllib.parse import unquote_plus

# Indonesian and international phone numbers as people type them:
# +62 812-3456-7890, 0812 3456 7890, 62812..., (021) 555-1234.
PHONE_RE = re.compile(r"(?<![\w.])(?:\+?\d[\d\s().-]{6,}\d)(?![\w.])")
# A date, possibly with the hour cut off at a colon ("2026-11-29 09" of 09:20:15).
ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}(?::\d{2}){0,2})?$")
# Dates and times as logs, ISO strings and access logs write them: they are kept
# whole and never scrubbed, so "2026-11-29T10:46:12.123456+00:00" (which, once a
# URL's "+" is read as a space, holds a run of ten digits) stays a timestamp.
# Guards on both sides keep a dashed phone number ("0812-34-56-7890") from
# passing for a date.
TIMESTAMP_RE = re.compile(
    r"(?<![\w.+-])(?:"
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}[-/](?:\d{1,2}|[A-Za-z]{3})[-/]\d{4}(?:[ :T]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)?"
    r"|\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?"
    r")(?![\d:-])"
)
FILTERED = "[Filtered]"
# Keys whose values are personal data whatever they look like.
PERSONAL_KEYS = {
    "caller_number", "caller_name", "phone", "phone_number", "msisdn", "number",
    "name", "full_name", "first_name", "last_name", "reporter_name", "contact_name",
    "contact_phone", "email", "password", "device_number", "imei", "imsi", "address",
}


def _replace(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = re.sub(r"\D", "", text)
    # Ids and amounts are short runs of digits and dates have a shape of their
    # own; the shortest Indonesian number with its area code has 9 digits.
    if len(digits) < 9 or ISO_DATE_RE.match(text):
        return text
    return FILTERED


def _scrub_numbers(text: str) -> str:
    """Scrub phone numbers in the text between timestamps, never inside one."""
    parts: list[str] = []
    start = 0
    for stamp in TIMESTAMP_RE.finditer(text):
        parts.append(PHONE_RE.sub(_replace, text[start : stamp.start()]))
        parts.append(stamp.group(0))
        start = stamp.end()
    parts.append(PHONE_RE.sub(_replace, text[start:]))
    return "".join(parts)


def scrub_text(text: str) -> str:
    scrubbed = _scrub_numbers(text)
    if "%" not in scrubbed and "+" not in scrubbed:
        return scrubbed
    # URLs carry numbers encoded (?from=%2B62812..., q=0812+3456+7890, and a login
    # redirect's next= encodes them twice): look again at the decoded text, and
    # keep that, scrubbed, if it held a number.
    decoded = scrubbed
    for _ in range(3):
        step = unquote_plus(decoded)
        if step == decoded:
            break
        decoded = step
    decoded_scrubbed = _scrub_numbers(decoded)
    return decoded_scrubbed if decoded_scrubbed != decoded else scrubbed


def _looks_like_phone_int(value: int) -> bool:
    # A number stored as an integer loses its leading 0 or +: 6281234567890, 81234567890.
    digits = str(abs(value))
    return 9 <= len(digits) <= 15 and digits.startswith(("62", "8"))


def scrub(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in PERSONAL_KEYS:
        return FILTERED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return FILTERED if _looks_like_phone_int(value) else value
    if isinstance(value, Mapping):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [scrub(v) for v in value] if not isinstance(value, tuple) else tuple(
            scrub(v) for v in value
        )
    if isinstance(value, bytes):
        return scrub_text(value.decode("utf-8", "replace"))
    # Any other object (a request, a model instance, a phonenumbers object) is
    # shown by its text, which is what a formatter would print anyway.
    text = str(value)
    scrubbed = scrub_text(text)
    return scrubbed if scrubbed != text else value


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
        # The message is formatted here, with its real arguments (%d, %r and objects
        # work as the caller meant), and only the scrubbed text goes on.
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logging's to report
            message = str(record.msg)
        record.msg = scrub_text(message)
        record.args = ()
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS:
                record.__dict__[key] = scrub(value, key)
        if record.exc_text:
            record.exc_text = scrub_text(record.exc_text)
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
        # A last pass over the whole line: whatever an object printed itself as
        # (a request's repr carries its query string) is scrubbed too.
        return scrub_text(json.dumps(payload, default=str, ensure_ascii=False))
