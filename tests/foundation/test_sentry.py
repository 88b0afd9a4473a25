"""Phone numbers and names never leave in an error report; the tenant is tagged."""

import sentry_sdk
from django.db import connection
from django_tenants.utils import schema_context
from sentry_sdk.transport import Transport

from core.observability import FILTERED, init_sentry, scrub_text


class CapturingTransport(Transport):
    def __init__(self, options=None):
        super().__init__(options)
        self.envelopes = []

    def capture_envelope(self, envelope):
        self.envelopes.append(envelope)

    def events(self):
        return [item.payload.json for env in self.envelopes for item in env.items
                if item.headers.get("type") == "event"]


def test_event_is_scrubbed_and_tagged_with_the_tenant(tenant_a):
    transport = CapturingTransport()
    init_sentry(dsn="https://key@sentry.invalid/1", environment="test", transport=transport)
    try:
        with schema_context(tenant_a.schema_name):
            with sentry_sdk.new_scope() as scope:
                # Breadcrumbs of earlier tests' log lines ride along otherwise, and any id
                # or timestamp among them may contain the digits looked for below.
                sentry_sdk.get_isolation_scope().clear_breadcrumbs()
                scope.clear_breadcrumbs()
                scope.set_extra("caller_number", "+6281234567890")
                scope.set_extra("caller_name", "Budi Santoso")
                scope.set_extra("incident_id", 4711)
                sentry_sdk.capture_message("call from 0812-3456-7890 dropped at 2026-11-23")
            sentry_sdk.flush()
    finally:
        sentry_sdk.init(dsn=None)
        connection.set_schema_to_public()
    [event] = transport.events()
    serialized = str(event)
    assert "3456-7890" not in serialized and "81234567890" not in serialized
    assert "Budi" not in serialized
    assert event["extra"]["caller_number"] == FILTERED
    assert event["extra"]["caller_name"] == FILTERED
    assert event["extra"]["incident_id"] == 4711
    assert FILTERED in (event.get("message") or event["logentry"]["message"])
    assert "2026-11-23" in str(event)  # dates are not phone numbers
    assert event["tags"]["tenant_schema"] == tenant_a.schema_name


def test_nothing_is_sent_without_a_dsn():
    import os
    import subprocess
    import sys

    env = {**os.environ, "SENTRY_DSN": "", "SIAGA112_DEBUG": "1",
           "DJANGO_SETTINGS_MODULE": "siaga112.settings_test"}
    code = "import django; django.setup(); import sentry_sdk; print(sentry_sdk.get_client().is_active())"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=False)
    assert done.stdout.strip().splitlines()[-1] == "False", done.stderr
    env["SENTRY_DSN"] = "https://key@sentry.invalid/1"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=False)
    assert done.stdout.strip().splitlines()[-1] == "True", done.stderr


def test_scrub_text_keeps_short_numbers():
    assert scrub_text("incident 123 at km 45") == "incident 123 at km 45"
    assert scrub_text("ring +62 21 555 0199 now") == f"ring {FILTERED} now"
