"""Delivery in-process (no worker): validation, signing, email and webhook
sending, retries with backoff, dead letters, stale claims, no secrets in logs."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context

from outbox.models import OutboxMessage
from outbox.services import OutboxError, outbox_backoff, outbox_due_ids, outbox_enqueue
from outbox.signing import sign, verify
from outbox.tasks import outbox_deliver

from .conftest import SECRET


def _webhook(receiver, key="dispatch:1:webhook", **kw):
    return outbox_enqueue(channel="webhook", receiver=receiver.url, subject="incident.dispatched",
                          payload={"incident": 1, "category": "fire"}, dedupe_key=key,
                          secret=SECRET, **kw)


def _backdate(message: OutboxMessage) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_sign_and_verify() -> None:
    body = b'{"a":1}'
    signature = sign(body, "k")
    assert signature.startswith("sha256=") and len(signature) == 7 + 64
    assert verify(body, "k", signature)
    assert not verify(body + b" ", "k", signature)
    assert not verify(body, "other", signature)
    assert not verify(body, "", sign(body, ""))
    assert not verify(body, "k", None)


def test_email_is_sent_once_with_the_delivery_header(tenant_a) -> None:
    with schema_context(tenant_a.schema_name):
        message = outbox_enqueue(channel="email", receiver="damkar@dairikab.go.id",
                                 subject="Kebakaran: dispatch #7",
                                 payload={"text": "Kebakaran di Sidikalang"},
                                 dedupe_key="dispatch:7:email")
        assert message.status == "pending" and message.attempts == 0
        assert outbox_deliver(message.pk) == "sent"
        assert outbox_deliver(message.pk) == "skipped"
        message.refresh_from_db()
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["damkar@dairikab.go.id"]
    assert sent.subject == "Kebakaran: dispatch #7"
    assert sent.body == "Kebakaran di Sidikalang"
    assert sent.extra_headers["X-Siaga112-Delivery"] == "dispatch:7:email"
    assert message.status == "sent" and message.attempts == 1 and message.sent_at is not None


def test_webhook_is_signed_and_carries_the_payload(tenant_a, webhook) -> None:
    with schema_context(tenant_a.schema_name):
        message = _webhook(webhook)
        assert outbox_deliver(message.pk) == "sent"
    [hit] = webhook.deliveries()
    assert hit.path == "/hooks/siaga112"
    assert hit.headers["x-siaga112-signature"] == sign(hit.body, SECRET)
    assert hit.headers["x-siaga112-delivery"] == "dispatch:1:webhook"
    assert abs(int(hit.headers["x-siaga112-timestamp"]) - timezone.now().timestamp()) < 60
    body = json.loads(hit.body)
    assert body["id"] == "dispatch:1:webhook"
    assert body["event"] == "incident.dispatched"
    assert body["data"] == {"incident": 1, "category": "fire"}


def test_failing_receiver_is_retried_with_backoff_then_succeeds(tenant_a, webhook) -> None:
    webhook.answers[:] = [500, 503]
    with schema_context(tenant_a.schema_name):
        message = _webhook(webhook)
        before = timezone.now()
        assert outbox_deliver(message.pk) == "failed"
        message.refresh_from_db()
        assert (message.status, message.attempts, message.last_error) == ("failed", 1, "HTTP 500")
        wait = message.next_attempt_at - before
        assert timedelta(seconds=9) < wait < timedelta(seconds=11)
        # Not due yet: neither a duplicate task nor the sweep touches it.
        assert outbox_deliver(message.pk) == "skipped"
        assert message.pk not in outbox_due_ids()

        _backdate(message)
        assert message.pk in outbox_due_ids()
        before = timezone.now()
        assert outbox_deliver(message.pk) == "failed"
        message.refresh_from_db()
        assert (message.attempts, message.last_error) == (2, "HTTP 503")
        assert timedelta(seconds=29) < message.next_attempt_at - before < timedelta(seconds=31)

        _backdate(message)
        assert outbox_deliver(message.pk) == "sent"
        message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 3, "")
    assert [h.headers["x-answer"] for h in webhook.hits] == ["500", "503", "200"]
    assert {h.headers["x-siaga112-delivery"] for h in webhook.hits} == {"dispatch:1:webhook"}
    assert len(webhook.deliveries()) == 1


def test_backoff_grows_and_is_capped() -> None:
    assert [outbox_backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [10, 30, 90, 270]
    assert outbox_backoff(20).total_seconds() == 3600


def test_dead_after_max_attempts(tenant_a, webhook, settings) -> None:
    settings.OUTBOX = {"MAX_ATTEMPTS": 3}
    webhook.answers[:] = [500] * 10
    with schema_context(tenant_a.schema_name):
        message = _webhook(webhook)
        results = []
        for _ in range(4):
            results.append(outbox_deliver(message.pk))
            _backdate(message)
        message.refresh_from_db()
        assert message.pk not in outbox_due_ids()
    assert results == ["failed", "failed", "dead", "skipped"]
    assert (message.status, message.attempts) == ("dead", 3)
    assert len(webhook.hits) == 3


def test_unreachable_receiver_is_a_failure_not_a_crash(tenant_a, settings) -> None:
    from .conftest import free_port

    settings.OUTBOX = {"WEBHOOK_TIMEOUT_SECONDS": 1}
    with schema_context(tenant_a.schema_name):
        message = outbox_enqueue(channel="webhook", receiver=f"http://127.0.0.1:{free_port()}/x",
                                 subject="s", payload={}, dedupe_key="k", secret=SECRET)
        assert outbox_deliver(message.pk) == "failed"
        message.refresh_from_db()
    assert message.status == "failed" and "ConnectionError" in message.last_error


def test_stale_sending_row_of_a_dead_worker_is_taken_over(tenant_a, webhook) -> None:
    with schema_context(tenant_a.schema_name):
        message = _webhook(webhook)
        OutboxMessage.objects.filter(pk=message.pk).update(
            status="sending", attempts=1, claimed_at=timezone.now() - timedelta(seconds=30)
        )
        # In flight for 30 s: another worker may still be on it.
        assert message.pk not in outbox_due_ids()
        assert outbox_deliver(message.pk) == "skipped"
        OutboxMessage.objects.filter(pk=message.pk).update(
            claimed_at=timezone.now() - timedelta(minutes=6)
        )
        assert message.pk in outbox_due_ids()
        assert outbox_deliver(message.pk) == "sent"
        message.refresh_from_db()
    assert (message.status, message.attempts) == ("sent", 2)
    assert len(webhook.deliveries()) == 1


def test_same_dedupe_key_and_receiver_is_one_row(tenant_a, webhook) -> None:
    with schema_context(tenant_a.schema_name):
        first = _webhook(webhook)
        again = _webhook(webhook)
        # Another receiver with the same key is another delivery.
        other = outbox_enqueue(channel="email", receiver="bpbd@dairikab.go.id", subject="s",
                               payload={}, dedupe_key="dispatch:1:webhook")
        assert again.pk == first.pk and other.pk != first.pk
        assert OutboxMessage.objects.filter(dedupe_key="dispatch:1:webhook").count() == 2


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"channel": "sms"}, "channel"),
        ({"channel": "email", "receiver": "not-an-address"}, "receiver"),
        ({"receiver": "ftp://example.org/hook"}, "receiver"),
        ({"secret": ""}, "secret"),
        ({"dedupe_key": ""}, "dedupe_key"),
        ({"payload": ["not", "a", "dict"]}, "payload"),
        ({"payload": {"when": object()}}, "payload"),
    ],
)
def test_bad_input_is_refused_and_nothing_saved(tenant_a, kwargs, code) -> None:
    args = {"channel": "webhook", "receiver": "https://opd.example.org/hook", "subject": "s",
            "payload": {}, "dedupe_key": "k1", "secret": SECRET, **kwargs}
    with schema_context(tenant_a.schema_name):
        with pytest.raises(OutboxError) as excinfo:
            outbox_enqueue(**args)
        assert OutboxMessage.objects.count() == 0
    assert excinfo.value.code == code
    assert excinfo.value.messages[0]


def test_the_national_site_has_no_outbox(db) -> None:
    assert connection.schema_name == "public"
    with pytest.raises(OutboxError) as excinfo:
        outbox_enqueue(channel="email", receiver="a@b.id", subject="s", payload={},
                       dedupe_key="k")
    assert excinfo.value.code == "schema"


def test_logs_carry_no_secret_receiver_or_payload(tenant_a, webhook, caplog) -> None:
    caplog.set_level(logging.INFO)
    webhook.answers[:] = [500]
    with schema_context(tenant_a.schema_name):
        message = outbox_enqueue(channel="webhook", receiver=webhook.url, subject="s",
                                 payload={"description": "Pak Budi 081234567890"},
                                 dedupe_key="dispatch:9:webhook", secret=SECRET)
        outbox_deliver(message.pk)
        _backdate(message)
        outbox_deliver(message.pk)
    events = [r.getMessage() for r in caplog.records if r.name == "outbox.services"]
    assert events == ["outbox.enqueued", "outbox.failed", "outbox.sent"]
    for record in caplog.records:
        dump = json.dumps(record.__dict__, default=str)
        assert SECRET not in dump and webhook.url not in dump and "081234567890" not in dump
    assert SECRET not in repr(message) and SECRET not in str(message)


def test_sweep_asks_each_pemda_schema_once(db) -> None:
    from tenants.selectors import pemda_tenants

    schemas = pemda_tenants().count()
    assert schemas > 100
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from outbox.services import outbox_sweep_all

    # The tenant list and one SELECT per schema; nothing due, nothing sent. The
    # search_path changes are counted apart: with TENANT_LIMIT_SET_CALLS a SET is
    # skipped when the connection already has the schema (the last "back to public").
    with CaptureQueriesContext(connection) as ctx:
        assert outbox_sweep_all() == {}
    sets = [q for q in ctx.captured_queries if q["sql"].startswith("SET search_path")]
    work = [q for q in ctx.captured_queries if not q["sql"].startswith("SET search_path")]
    assert len(work) == 1 + schemas
    assert schemas <= len(sets) <= schemas + 1


def test_purge_deletes_only_old_finished_messages(tenant_a, tenant_b) -> None:
    from outbox.tasks import outbox_purge

    old = timezone.now() - timedelta(days=31)
    rows = {}
    for tenant in (tenant_a, tenant_b):
        with schema_context(tenant.schema_name):
            for label, status, created in [("old-sent", "sent", old), ("old-dead", "dead", old),
                                           ("old-failed", "failed", old),
                                           ("new-sent", "sent", timezone.now())]:
                OutboxMessage.objects.create(
                    channel="email", receiver="a@b.id", subject="s", dedupe_key=f"purge:{label}",
                    status=status, created_at=created,
                    sent_at=created if status == "sent" else None,
                )
            rows[tenant.schema_name] = None
    # At least ours; demo data of other Pemda may be old enough too.
    assert outbox_purge() >= 4
    for schema in rows:
        with schema_context(schema):
            left = sorted(OutboxMessage.objects.filter(dedupe_key__startswith="purge:")
                          .values_list("dedupe_key", flat=True))
        assert left == ["purge:new-sent", "purge:old-failed"]
