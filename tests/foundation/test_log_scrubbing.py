"""Caller numbers never reach a log line: percent-encoded in URLs, typed in a
search box, as integers or objects, in error records and in the access log.
Checked on what the configured handlers actually write, after real requests."""

from __future__ import annotations

import io
import logging
import re
from contextlib import contextmanager

import phonenumbers
import pytest
from django.test import Client

from core.observability import FILTERED, before_send, scrub, scrub_text

from .private_servers import PlatformServer, http, source_url_of

# The digits of the test number in every form it was sent: none may be written.
NUMBER_DIGITS = re.compile(r"8123[\s.-]?4567[\s.-]?890|0812|6281")


def _console_handlers() -> list[logging.Handler]:
    def found() -> list[logging.Handler]:
        return [h for h in logging.getLogger().handlers if getattr(h, "name", "") == "console"]

    if not found():
        # An embedded Celery worker (start_worker) earlier in the session sets
        # Celery's own root handlers up; put the platform's configuration back.
        from django.conf import settings
        from django.utils.log import configure_logging

        configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)
    handlers = found()
    assert handlers, "the configured console handler"
    return handlers


@contextmanager
def captured_log():
    """What the real console handler writes (formatter and scrub filter as configured)."""
    stream = io.StringIO()
    handlers = _console_handlers()
    old = [h.setStream(stream) for h in handlers]  # type: ignore[attr-defined]
    try:
        yield stream
    finally:
        for handler, previous in zip(handlers, old, strict=True):
            handler.setStream(previous)  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", [
    "GET /api/pbx/aml/?from=%2B6281234567890 HTTP/1.1",
    "GET /incidents/?q=081234567890",
    "GET /incidents/?q=0812%203456%207890",
    "GET /incidents/?q=0812-3456-7890&page=2",
    "from=%2b62+812+3456+7890",
    "caller +62 812-3456-7890 rang",
])
def test_scrub_text_catches_numbers_encoded_in_urls(text):
    scrubbed = scrub_text(text)
    assert not NUMBER_DIGITS.search(scrubbed), scrubbed
    assert FILTERED in scrubbed


def test_scrub_keeps_dates_ids_and_times():
    line = 'at 2026-11-29 09:20:15+00:00 incident 4711 took 1.25 s, schema pemda_12_11'
    assert scrub_text(line) == line


@pytest.mark.parametrize("stamp", [
    "2026-11-29T10:46:12.123456+00:00",
    "2026-11-29 10:46:12.123456+07:00",
    "2026-11-29T10:46:12Z",
    "10:46:12.123456+00:00",
    "[29/Nov/2026 10:46:12]",
    "29-11-2026 10:46:00",
    "29/11/2026",
    "10:46:00",
    "2026-11-29 10:46:12,345",
])
def test_timestamps_survive_whole(stamp):
    # The bug: "+00:00" read as a URL's space joined the microseconds and the
    # offset into ten digits, written as "10:46:[Filtered]:00".
    line = f"incident.created at {stamp} id=4711"
    assert scrub_text(line) == line


@pytest.mark.parametrize("text", [
    "2026-11-29T10:46:12.123456+00:00 from 081234567890",
    "081234567890 at 2026-11-29T10:46:12+07:00",
    "[29/Nov/2026 10:46:12] \"GET /incidents/?q=0812%203456%207890 HTTP/1.1\" 200 1234",
    "10:46:12 0812-3456-7890 10:47",
    "0812-34-56-7890",  # dashed like a date, still a number
    "since=2026-11-29T10%3A46%3A12%2B07%3A00&from=%2B6281234567890",
])
def test_numbers_next_to_timestamps_are_still_scrubbed(text):
    scrubbed = scrub_text(text)
    assert not NUMBER_DIGITS.search(scrubbed), scrubbed
    assert FILTERED in scrubbed
    for stamp in ("10:46:12", "2026-11-29", "29/Nov/2026"):
        if stamp in text:
            assert stamp in scrubbed, scrubbed


def test_log_lines_keep_their_timestamps():
    import datetime as dt

    logger = logging.getLogger("siaga112.test_scrub")
    at = dt.datetime(2026, 11, 29, 10, 46, 12, 123456, tzinfo=dt.UTC)
    with captured_log() as out:
        logger.warning("call.received", extra={"at": at, "caller": "+6281234567890"})
        logger.warning("call at %s from %s", at, "0812 3456 7890")
    written = out.getvalue()
    assert written.count("2026-11-29 10:46:12.123456+00:00") == 2, written
    assert "[Filtered]:" not in written
    assert not NUMBER_DIGITS.search(written.replace("2026-11-29 10:46:12.123456+00:00", "")), written


def test_scrub_handles_values_that_are_not_strings():
    number = phonenumbers.parse("+6281234567890")
    scrubbed = scrub({"n": 6281234567890, "local": 81234567890, "id": 4711, "ok": True,
                      "obj": number, "raw": b"from +6281234567890", "many": {"0812 3456 7890"},
                      "nested": [("x", 6281234567890)]})
    assert not NUMBER_DIGITS.search(str(scrubbed)), scrubbed
    assert scrubbed["id"] == 4711 and scrubbed["ok"] is True


def test_log_records_with_numbers_in_args_extra_and_objects_are_scrubbed():
    logger = logging.getLogger("siaga112.test_scrub")
    number = phonenumbers.parse("+6281234567890")
    with captured_log() as out:
        logger.warning("call from %s", "+6281234567890")
        logger.warning("call from %d", 6281234567890)
        logger.warning("object %r", number)
        logger.warning("url.seen", extra={"url": "/x/?from=%2B6281234567890", "n": 81234567890,
                                           "call": 4711})
        try:
            raise ValueError("bad caller 0812-3456-7890")
        except ValueError:
            logger.exception("failed for %s", "0812 3456 7890")
    written = out.getvalue()
    assert len(written.splitlines()) >= 5
    assert not NUMBER_DIGITS.search(written), written
    assert '"call": 4711' in written


@pytest.mark.django_db
def test_error_records_of_real_requests_carry_no_number(settings):
    settings.ROOT_URLCONF = "tests.foundation.urls_error_probe"
    client = Client(HTTP_HOST="dairi.localhost", raise_request_exception=False)
    with captured_log() as out:
        assert client.get("/no/such/page/", {"q": "081234567890"}).status_code == 404
        assert client.get("/probe/boom/?from=%2B6281234567890").status_code == 500
        assert client.get("/probe/db-down/?caller=0812-3456-7890").status_code == 503
    written = out.getvalue()
    assert "Traceback" in written  # the 500 was recorded, with its traceback
    assert not NUMBER_DIGITS.search(written), written
    # ... and each record keeps its own timestamp whole.
    assert "[Filtered]:" not in written
    assert re.search(r'"ts": "\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"', written), written


def test_sentry_events_with_encoded_numbers_are_scrubbed():
    event = {"request": {"url": "http://dairi.localhost/api/pbx/aml/",
                         "query_string": "from=%2B6281234567890",
                         "data": {"sms": 'A"ML=1;lt=-2.7;lg=98.3', "from": "0812 3456 7890"}},
             "extra": {"n": 6281234567890}}
    assert not NUMBER_DIGITS.search(str(before_send(event)))


def test_the_access_log_of_the_real_server_carries_no_number(committed, tmp_path):
    from django.db import connection

    server = PlatformServer({"DATABASE_URL": source_url_of(connection.settings_dict)}, tmp_path)
    server.start()
    try:
        for path in ("/api/pbx/aml/?from=%2B6281234567890", "/incidents/?q=081234567890",
                     "/incidents/?q=0812%203456%207890", "/no/such/?q=0812-3456-7890"):
            http("GET", server.base + path, host="dairi.localhost")
        http("POST", server.base + "/api/pbx/aml/?from=%2B6281234567890", host="dairi.localhost",
             body=b'A"ML=1;lt=-2.7;lg=98.3', headers={"Content-Type": "text/plain"})
    finally:
        server.stop()
    written = server.log.read_text()
    assert '"GET /incidents/?q=' in written  # the access log is there...
    assert not NUMBER_DIGITS.search(written), written  # ... without the number
    # ... with its timestamps (runserver's "29/Nov/2026 10:46:12", ISO "ts") whole.
    assert "[Filtered]:" not in written and ":[Filtered]" not in written
    assert re.search(r'"server_time": "\d{2}/\w{3}/\d{4} \d{2}:\d{2}:\d{2}"', written), written
    assert re.search(r'"ts": "\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"', written), written
