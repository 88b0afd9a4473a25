"""Play the PBX in the demo: `siaga112 pbx_simulate dairi --caller 081234567890 [--aml]`.

Posts a ringing event (and optionally an AML position, answered, ended) to
http://<slug>.<base domain>:<port>/api/pbx/... with that Pemda's demo PBX key."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incidents.demo import demo_pbx_key


class Command(BaseCommand):
    help = "Simulate PBX events (ringing, AML, answered, ended) against a demo Pemda."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("slug", help="Pemda host label, e.g. dairi")
        parser.add_argument("--caller", required=True, help="caller number, e.g. 081234567890")
        parser.add_argument("--aml", action="store_true", help="also send an AML SMS position")
        parser.add_argument("--lat", type=float, default=2.7441)
        parser.add_argument("--lng", type=float, default=98.3125)
        parser.add_argument("--answer", metavar="USERNAME", default="",
                            help="also send 'answered' by this operator")
        parser.add_argument("--end", action="store_true", help="also send 'ended'")
        parser.add_argument("--call-id", default="", help="PBX call id (default: random)")
        parser.add_argument("--port", default="", help="web port (default: the demo's)")
        parser.add_argument("--key", default="",
                            help="PBX key (default: the demo key of this Pemda)")

    def handle(self, *args: Any, **opts: Any) -> None:
        port = str(opts["port"] or settings.SIAGA112.get("PUBLIC_PORT") or "")
        scheme = settings.SIAGA112.get("PUBLIC_SCHEME", "http")
        host = f"{opts['slug']}.{settings.BASE_DOMAIN}" + (f":{port}" if port else "")
        # *.localhost does not resolve everywhere outside a browser: connect to the
        # loopback address and name the Pemda in the Host header.
        address = f"127.0.0.1:{port or 80}" if settings.BASE_DOMAIN == "localhost" else host
        base = f"{scheme}://{address}"
        key = opts["key"] or demo_pbx_key(opts["slug"])
        headers = {"Authorization": f"Bearer {key}", "Host": host}
        call_id = opts["call_id"] or f"sim-{uuid.uuid4().hex[:12]}"
        now = datetime.now(UTC)

        def post(path: str, **kwargs: Any) -> None:
            try:
                response = requests.post(f"{base}{path}", headers=headers, timeout=10, **kwargs)
            except requests.RequestException as exc:
                raise CommandError(f"cannot reach {base}: {exc}") from exc
            self.stdout.write(f"POST {path} -> {response.status_code} {response.text[:300]}")
            if response.status_code >= 400:
                raise CommandError("the platform refused the event (see above)")

        event = {"call_id": call_id, "caller": opts["caller"], "trunk": "sim-trunk",
                 "at": now.isoformat()}
        post("/api/pbx/events/", json={"event": "ringing", **event})
        if opts["aml"]:
            sms = (f'A"ML=1;lt=+{opts["lat"]:.5f};lg=+{opts["lng"]:.5f};rd=12;'
                   f"top={now:%Y%m%d%H%M%S};lc=68;pm=G;si=510101234567890;ei=356938035643809;"
                   "mcc=510;mnc=10;ml=124")
            post("/api/pbx/aml/", json={"sms": sms, "from": opts["caller"]})
        if opts["answer"]:
            post("/api/pbx/events/", json={"event": "answered", "operator": opts["answer"],
                                            **event, "at": datetime.now(UTC).isoformat()})
        if opts["end"]:
            post("/api/pbx/events/", json={"event": "ended", **event,
                                            "at": datetime.now(UTC).isoformat()})
        self.stdout.write(json.dumps({"call_id": call_id, "base": base}))
