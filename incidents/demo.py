"""112 operations' part of the demo seed (called by siaga112.demo.seed_demo for
each demo tenant, inside that tenant's schema, after its users exist).
Must be idempotent."""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.db import transaction

from accounts.models import User
from incidents.models import Agency, AgencyMember, Incident, IncidentSettings, PbxCredential
from incidents.services import dispatching, pbx
from incidents.services import incidents as incident_services
from tenants.models import Tenant

# The prefix of the one key every demo Pemda shared before keys were per tenant
# (Dairi's key then worked on Sidoarjo): seeding revokes it where it survives.
RETIRED_SHARED_PREFIX = "demo112"


def demo_pbx_key(slug: str) -> str:
    """The demo PBX key of one Pemda: derived from SECRET_KEY and the Pemda's slug, so
    each tenant's key differs and `siaga112 pbx_simulate <slug>` can play its PBX
    without reading a stored secret. Written to var/demo-credentials.json too."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"siaga112-demo-pbx:{slug}".encode(), hashlib.sha256
    ).hexdigest()
    return f"pbx_demo{digest[:8]}_{digest[8:48]}"

# The Pemda's own area (bounding box) for the demo tenants.
DEMO_AREAS = {
    "dairi": (2.45, 3.05, 98.0, 98.65),
    "sidoarjo": (-7.62, -7.30, 112.50, 112.95),
}
# (idempotency key, category, lat, lng, address, kecamatan, description, agency, steps)
DEMO_INCIDENTS = {
    "dairi": [
        (
            "demo-dairi-1",
            "fire",
            2.7445,
            98.3112,
            "Jl. Sisingamangaraja, Sidikalang",
            "Sidikalang",
            "Kebakaran rumah warga, api terlihat dari jalan",
            "damkar",
            4,
        ),
        (
            "demo-dairi-2",
            "medical",
            2.8123,
            98.2501,
            "Desa Tigalingga",
            "Tigalingga",
            "Warga pingsan di pasar, butuh ambulans",
            "psc119",
            1,
        ),
        (
            "demo-dairi-3",
            "infrastructure",
            2.6901,
            98.4302,
            "Jl. Lintas Sumbul",
            "Sumbul",
            "Pohon tumbang menutup jalan",
            "",
            0,
        ),
    ],
    "sidoarjo": [
        (
            "demo-sda-1",
            "traffic_accident",
            -7.4478,
            112.7183,
            "Bundaran Sidoarjo (Alun-alun)",
            "Sidoarjo",
            "Tabrakan dua motor, satu korban luka",
            "psc119",
            2,
        ),
        (
            "demo-sda-2",
            "fire",
            -7.3612,
            112.6932,
            "Pasar Waru",
            "Waru",
            "Asap dari kios pasar",
            "damkar",
            0,
        ),
    ],
}
STEPS = ["acknowledged", "departed", "arrived", "resolved"]


def seed_tenant_demo(tenant: Tenant) -> None:
    """Agencies' responders, PBX credentials and sample operations for a demo tenant."""
    slug = tenant.region.slug if tenant.region else ""
    with transaction.atomic():
        # Demo responders (created with the other demo users) join their agency.
        for username, agency_code in (("damkar", "damkar"), ("psc119", "psc119")):
            agency = Agency.objects.filter(code=agency_code).first()
            if agency is not None and not agency.phone:
                # The national short numbers, and a plausible local channel.
                Agency.objects.filter(pk=agency.pk).update(
                    phone="113" if agency_code == "damkar" else "119",
                    radio_channel="Kanal 3 (VHF)" if agency_code == "damkar" else "Kanal 5 (VHF)")
            responder = User.objects.filter(username=username).first()
            if agency is not None and responder is not None:
                AgencyMember.objects.get_or_create(user=responder, defaults={"agency": agency})
        for retired in PbxCredential.objects.filter(
            key_prefix=RETIRED_SHARED_PREFIX, revoked_at__isnull=True
        ):
            pbx.pbx_credential_revoke(credential_id=retired.pk, actor=None)
        raw_key = demo_pbx_key(slug or tenant.schema_name)
        if not PbxCredential.objects.filter(key_prefix=raw_key.split("_")[1]).exists():
            pbx.pbx_credential_create(name="Demo PBX", actor=None, raw_key=raw_key)
        if slug in DEMO_AREAS:
            cfg = IncidentSettings.load()
            if cfg.area_min_lat is None:
                (cfg.area_min_lat, cfg.area_max_lat, cfg.area_min_lng, cfg.area_max_lng) = (
                    DEMO_AREAS[slug]
                )
                cfg.save()
        operator = User.objects.filter(username="operator1").first()
        for key, category, lat, lng, address, kec, text, agency_code, steps in DEMO_INCIDENTS.get(
            slug, []
        ):
            if Incident.objects.filter(idempotency_key=key).exists():
                continue
            created = incident_services.incident_create(
                data=incident_services.IncidentInput(
                    category=category,
                    description=text,
                    latitude=lat,
                    longitude=lng,
                    address=address,
                    kecamatan=kec,
                    idempotency_key=key,
                ),
                actor=operator,
                is_test=tenant.in_trial,
                force=True,
            )
            agency = Agency.objects.filter(code=agency_code).first() if agency_code else None
            if agency is None:
                continue
            (dispatch,) = dispatching.dispatch_create(
                incident_id=created.incident.pk, agency_ids=[agency.pk], actor=operator
            )
            member = AgencyMember.objects.filter(agency=agency).select_related("user").first()
            for step in STEPS[:steps]:
                if member is None:
                    break
                dispatching.dispatch_advance(
                    dispatch_id=dispatch.pk,
                    to_status=step,
                    actor=member.user,
                    outcome="handled" if step == "resolved" else "",
                    note="Api padam, tidak ada korban" if step == "resolved" else "",
                )
        # A mailbox per demo agency, so the dispatches a person makes in the demo
        # show their notification in var/mail/ (the file e-mail backend). Set after
        # the sample incidents above: those are history, nobody is notified of them.
        for agency in Agency.objects.filter(email=""):
            agency.email = f"{agency.code}@{slug}.demo.siaga112.invalid"
            agency.save(update_fields=["email"])
