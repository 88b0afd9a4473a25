"""Onboarding's part of the demo seed (called by siaga112.demo.seed_demo after
the stages, tenants and users exist). Must be idempotent.

Every demo Pemda gets the evidence its stage implies, dated from its seeded
timeline. Two are curated: Kota Kotamobagu (FGD/Bimtek) has everything for the
national officer to walk it to trial and launch in the browser once a test
call and the launch details are recorded; Kab. Dairi (trial) visibly lacks
routing from two operators, its Perbup and the launch details.

Coordinates: the named Jawa Timur, Dairi and Kotamobagu centers sit on their
real town centers; other demo centers are placed near their province capital
(deterministic offset), which is plausible on a national map but not exact."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction

from accounts.models import Role, User
from onboarding.models import (
    STAGE_ORDER,
    Application,
    Launch,
    NetworkScheme,
    Operator,
    OperatorRouting,
    PemdaOnboarding,
    Regulation,
    RegulationKind,
    Stage,
    TimelineEntry,
    TrainingSession,
    TrialCall,
    TrialResult,
    VerificationVisit,
    VisitResult,
)

DEMO_LETTER = "onboarding/letters/demo/surat-permohonan-112.pdf"
# A minimal valid one-page PDF.
DEMO_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)

PROVINCE_CAPITALS: dict[str, tuple[float, float]] = {
    "11": (5.55, 95.32),
    "12": (3.59, 98.67),
    "13": (-0.95, 100.35),
    "14": (0.51, 101.45),
    "15": (-1.61, 103.61),
    "16": (-2.98, 104.76),
    "17": (-3.80, 102.27),
    "18": (-5.43, 105.26),
    "19": (-2.13, 106.11),
    "21": (0.92, 104.45),
    "31": (-6.20, 106.82),
    "32": (-6.91, 107.61),
    "33": (-6.97, 110.42),
    "34": (-7.80, 110.36),
    "35": (-7.25, 112.75),
    "36": (-6.12, 106.15),
    "51": (-8.65, 115.22),
    "52": (-8.58, 116.12),
    "53": (-10.17, 123.61),
    "61": (-0.03, 109.33),
    "62": (-2.21, 113.92),
    "63": (-3.32, 114.59),
    "64": (-0.50, 117.15),
    "65": (2.84, 117.37),
    "71": (1.47, 124.84),
    "72": (-0.90, 119.87),
    "73": (-5.15, 119.43),
    "74": (-3.97, 122.51),
    "75": (0.54, 123.06),
    "76": (-2.68, 118.89),
    "81": (-3.70, 128.18),
    "82": (0.79, 127.38),
    "91": (-2.53, 140.72),
    "92": (-0.86, 134.06),
    "93": (-8.49, 140.40),
    "94": (-3.37, 135.50),
    "95": (-4.10, 138.95),
    "96": (-0.88, 131.26),
}
TOWN_CENTERS: dict[str, tuple[float, float]] = {
    "Kabupaten Dairi": (2.7436, 98.3136),
    "Kota Kotamobagu": (0.7350, 124.3150),
    "Kabupaten Sidoarjo": (-7.4478, 112.7183),
    "Kota Surabaya": (-7.2575, 112.7521),
    "Kota Malang": (-7.9666, 112.6326),
    "Kabupaten Banyuwangi": (-8.2192, 114.3691),
    "Kota Probolinggo": (-7.7543, 113.2159),
    "Kota Madiun": (-7.6298, 111.5239),
    "Kota Mojokerto": (-7.4722, 112.4338),
    "Kota Blitar": (-8.0955, 112.1609),
    "Kabupaten Probolinggo": (-7.7764, 113.4160),
    "Kabupaten Blitar": (-8.1330, 112.2200),
    "Kota Pasuruan": (-7.6453, 112.9075),
    "Kabupaten Mojokerto": (-7.5600, 112.4300),
    "Kabupaten Jombang": (-7.5469, 112.2331),
    "Kabupaten Gresik": (-7.1566, 112.6555),
    "Kabupaten Sumenep": (-7.0051, 113.8594),
    "Kota Batu": (-7.8671, 112.5239),
    "Kabupaten Pasuruan": (-7.6000, 112.7800),
    "Kabupaten Malang": (-8.1300, 112.5700),
    "Kabupaten Ngawi": (-7.4040, 111.4460),
    "Kabupaten Situbondo": (-7.7066, 114.0093),
}
KOTAMOBAGU_OPD = [
    "Dinas Kesehatan",
    "RSUD Kotamobagu",
    "Puskesmas Motoboi Kecil",
    "Damkar",
    "BPBD",
    "Polres Kotamobagu",
    "Satpol PP",
    "Dinas Sosial",
    "Dinas Perhubungan",
    "DP3A",
    "Diskominfo",
    "PLN ULP Kotamobagu",
    "PDAM",
    "Basarnas Pos Bolmong",
]


def _coordinates(name: str, code: str, province: str) -> tuple[Decimal, Decimal]:
    if name in TOWN_CENTERS:
        lat, lng = TOWN_CENTERS[name]
    else:
        base_lat, base_lng = PROVINCE_CAPITALS.get(province, (-2.5, 118.0))
        digest = hashlib.sha256(code.encode()).digest()
        lat = base_lat + (digest[0] / 255 - 0.5) * 1.4
        lng = base_lng + (digest[1] / 255 - 0.5) * 1.4
        lat = min(max(lat, -11.0), 6.0)
        lng = min(max(lng, 95.0), 141.0)
    return Decimal(f"{lat:.5f}"), Decimal(f"{lng:.5f}")


def _entered(history: dict[str, dt.datetime], stage: str, fallback: dt.date) -> dt.date:
    at = history.get(stage)
    return at.date() if at else fallback


@transaction.atomic
def seed_onboarding_demo() -> None:
    """Evidence for the demo Pemda, so their pages show what they have and lack."""
    if not default_storage.exists(DEMO_LETTER):
        default_storage.save(DEMO_LETTER, ContentFile(DEMO_PDF))
    User.objects.filter(role=Role.NATIONAL_OFFICER, username="nasional", email="").update(
        email="nasional@komdigi.go.id"
    )
    seeded = set(Application.objects.values_list("onboarding_id", flat=True))
    rows = list(
        PemdaOnboarding.objects.filter(is_demo=True)
        .exclude(stage=Stage.NOT_STARTED)
        .exclude(region_id__in=seeded)
        .select_related("region")
    )
    if not rows:
        return
    histories: dict[str, dict[str, dt.datetime]] = {}
    for onboarding_id, to_stage, at in TimelineEntry.objects.filter(
        onboarding_id__in=[r.region_id for r in rows], kind="advance"
    ).values_list("onboarding_id", "to_stage", "at"):
        histories.setdefault(onboarding_id, {})[to_stage] = at

    bulk: dict[type[models.Model], list[Any]] = {
        m: []
        for m in (
            Application,
            VerificationVisit,
            OperatorRouting,
            TrainingSession,
            TrialCall,
            Launch,
            Regulation,
        )
    }
    installed: list[PemdaOnboarding] = []
    for i, ob in enumerate(rows):
        region = ob.region
        history = histories.get(ob.region_id, {})
        level = STAGE_ORDER.index(ob.stage)
        today = dt.date.today()
        applied = _entered(history, Stage.APPLICATION, today - dt.timedelta(days=30))
        short = region.name.removeprefix("Kabupaten ").removeprefix("Kota ")
        lat, lng = _coordinates(region.name, region.code, region.parent_id or "")
        bulk[Application].append(
            Application(
                onboarding=ob,
                letter=DEMO_LETTER,
                letter_number=f"045/{100 + i}/Diskominfo/{applied.year}",
                letter_date=applied - dt.timedelta(days=7),
                contact_name=f"Kabid TIK Diskominfo {short}",
                contact_phone=f"+62 811 {region.code.replace('.', '')}0 112",
                contact_email=f"diskominfo@{region.slug}.go.id",
                network_scheme=NetworkScheme.SIP_TRUNK if i % 3 else NetworkScheme.IP_PBX,
                address=f"Kantor Diskominfo {region.name}",
                latitude=lat,
                longitude=lng,
            )
        )
        if level < STAGE_ORDER.index(Stage.VERIFICATION):
            continue
        verification = _entered(history, Stage.VERIFICATION, applied)
        if level >= STAGE_ORDER.index(Stage.INSTALLATION):
            passed_on = _entered(history, Stage.INSTALLATION, verification) - dt.timedelta(days=5)
            bulk[VerificationVisit].append(
                VerificationVisit(
                    onboarding=ob,
                    visited_on=passed_on,
                    verifier="Tim Verifikasi Ditjen Aptika",
                    room_ready=True,
                    hardware_ready=True,
                    network_ready=True,
                    backup_power_ready=True,
                    supervisors=2,
                    agents=8,
                    opd_teams=10,
                    system_ready=True,
                    draft_regulation=True,
                    sop_ready=True,
                    result=VisitResult.PASSED,
                )
            )
            launched = level == STAGE_ORDER.index(Stage.LAUNCHED)
            curated: dict[str, set[str]] = {
                "Kota Kotamobagu": {o.value for o in Operator},
                "Kabupaten Dairi": {
                    Operator.TELKOMSEL.value,
                    Operator.INDOSAT.value,
                    Operator.XL.value,
                },
            }
            every: set[str] = {o.value for o in Operator}
            curated_open = curated.get(region.name, every if launched else set())
            for op in Operator:
                bulk[OperatorRouting].append(
                    OperatorRouting(
                        onboarding=ob,
                        operator=op.value,
                        letter_date=passed_on + dt.timedelta(days=3),
                        routing_opened_on=passed_on + dt.timedelta(days=21)
                        if op.value in curated_open
                        else None,
                    )
                )
        else:
            # Still in verification: about a third already had a visit asking for rework.
            if i % 3 == 0:
                bulk[VerificationVisit].append(
                    VerificationVisit(
                        onboarding=ob,
                        visited_on=verification + dt.timedelta(days=10),
                        verifier="Tim Verifikasi Ditjen Aptika",
                        room_ready=True,
                        hardware_ready=False,
                        network_ready=True,
                        backup_power_ready=False,
                        supervisors=1,
                        agents=3,
                        opd_teams=4,
                        system_ready=False,
                        draft_regulation=True,
                        sop_ready=False,
                        result=VisitResult.REWORK,
                        notes="UPS belum tersedia; perangkat komputer operator belum lengkap.",
                    )
                )
            continue
        if level >= STAGE_ORDER.index(Stage.TRAINING):
            ob.installed_on = _entered(history, Stage.TRAINING, today) - dt.timedelta(days=7)
            installed.append(ob)
        if level >= STAGE_ORDER.index(Stage.TRAINING):
            training_day = _entered(history, Stage.TRAINING, today) + dt.timedelta(days=5)
            is_kotamobagu = region.name == "Kota Kotamobagu"
            opd = KOTAMOBAGU_OPD if is_kotamobagu else KOTAMOBAGU_OPD[:3] + KOTAMOBAGU_OPD[4:9]
            if level > STAGE_ORDER.index(Stage.TRAINING) or is_kotamobagu or i % 2 == 0:
                bulk[TrainingSession].append(
                    TrainingSession(
                        onboarding=ob,
                        held_on=min(training_day, today),
                        place=f"Aula Diskominfo {short}",
                        facilitator="Direktorat Layanan Aptika",
                        participating_opd="\n".join(opd),
                        operators_trained=24 if is_kotamobagu else 12,
                    )
                )
        if level >= STAGE_ORDER.index(Stage.TRIAL):
            trial_day = _entered(history, Stage.TRIAL, today) + dt.timedelta(days=3)
            bulk[TrialCall].append(
                TrialCall(
                    onboarding=ob,
                    called_on=min(trial_day, today),
                    operator=Operator.TELKOMSEL,
                    scenario="Kebakaran rumah, penelepon panik",
                    result=TrialResult.SUCCESS,
                )
            )
            if region.name == "Kabupaten Dairi":
                bulk[TrialCall].append(
                    TrialCall(
                        onboarding=ob,
                        called_on=min(trial_day + dt.timedelta(days=1), today),
                        operator=Operator.SMARTFREN,
                        scenario="Kecelakaan lalu lintas",
                        result=TrialResult.FAILED,
                        notes="Panggilan Smartfren belum diteruskan ke PSAP Sidikalang.",
                    )
                )
        if level == STAGE_ORDER.index(Stage.LAUNCHED) and ob.launched_on:
            bulk[Launch].append(
                Launch(
                    onboarding=ob,
                    launched_on=ob.launched_on,
                    launched_by=("Walikota " if region.is_city else "Bupati ") + short,
                    press_link="",
                )
            )
            bulk[Regulation].append(
                Regulation(
                    onboarding=ob,
                    kind=RegulationKind.PERWALI if region.is_city else RegulationKind.PERBUP,
                    number=f"{10 + i % 40} Tahun {ob.launched_on.year}",
                    enacted_on=ob.launched_on - dt.timedelta(days=60),
                )
            )
        if region.name == "Kota Kotamobagu":
            bulk[Regulation].append(
                Regulation(
                    onboarding=ob,
                    kind=RegulationKind.PERWALI,
                    number=f"17 Tahun {(today - dt.timedelta(days=45)).year}",
                    enacted_on=today - dt.timedelta(days=45),
                )
            )
    for model, objs in bulk.items():
        model._default_manager.bulk_create(objs, ignore_conflicts=True)
    PemdaOnboarding.objects.bulk_update(installed, ["installed_on"])
