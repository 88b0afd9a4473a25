"""Read-only onboarding queries on the public endpoint. Thin: every permission
decision is onboarding.policies, every read onboarding.selectors."""

from __future__ import annotations

from typing import Any

import graphene

from core.errors import Forbidden, NotFound
from onboarding import policies, selectors
from onboarding.graphql.types import (
    OnboardingStatusType,
    ProvinceStageCountsType,
    StageCountType,
    TimelineEntryType,
)
from onboarding.models import STAGE_ORDER, Stage
from tenants.models import Region

DENIED = "Permission denied: onboarding data is for national and provincial officers."


def _principal(info: Any) -> Any:
    user = info.context.user
    if not policies.can_query_api(user):
        raise Forbidden(DENIED, code="PERMISSION_DENIED")
    return user


def _province_filter(principal: Any, province_code: str | None) -> str | None:
    """National: as asked. Provincial: their own province only."""
    scope = policies.province_scope(principal)
    if scope is None:
        return province_code or None
    if province_code and province_code != scope:
        raise Forbidden("Permission denied: outside your province.", code="PERMISSION_DENIED")
    return scope


def _region(principal: Any, region_code: str) -> Region:
    region = Region.objects.filter(pk=region_code, kind=Region.Kind.REGENCY).first()
    if region is None or not policies.can_query_region(principal, region):
        # Same answer for missing and out of scope; echo only a short prefix of the input.
        raise NotFound(f"No Pemda {region_code[:20]} in your scope.", code="NOT_FOUND")
    return region


def _status(row: selectors.PemdaRow, missing: list[str] | None = None) -> OnboardingStatusType:
    return OnboardingStatusType(
        region_code=row.code,
        name=row.name,
        province_code=row.province_code,
        stage=row.stage,
        stage_label=row.stage_label,
        stage_entered_at=row.stage_entered_at,
        days_in_stage=row.days_in_stage,
        stalled=row.is_stalled,
        launched_on=row.launched_on,
        launch_ordinal=row.ordinal,
        version=row.version,
        missing=missing or [],
    )


class OnboardingQuery(graphene.ObjectType):
    onboarding_statuses = graphene.List(
        graphene.NonNull(OnboardingStatusType),
        required=True,
        province_code=graphene.String(),
        stage=graphene.String(),
        stalled=graphene.Boolean(),
        description="Where each Pemda stands (national officers: all; provincial: own province).",
    )
    onboarding_status = graphene.Field(
        OnboardingStatusType, region_code=graphene.String(required=True)
    )
    onboarding_stage_counts = graphene.List(
        graphene.NonNull(ProvinceStageCountsType),
        required=True,
        province_code=graphene.String(),
        description="Counts per stage for each province in scope.",
    )
    onboarding_timeline = graphene.List(
        graphene.NonNull(TimelineEntryType),
        required=True,
        region_code=graphene.String(required=True),
    )

    def resolve_onboarding_statuses(root, info, province_code=None, stage=None, stalled=False):
        principal = _principal(info)
        province = _province_filter(principal, province_code)
        filters = selectors.PemdaFilter(
            province=province or "",
            stage=stage if stage in STAGE_ORDER else "",
            stalled=bool(stalled),
        )
        return [_status(r) for r in selectors.pemda_rows(filters)]

    def resolve_onboarding_status(root, info, region_code):
        principal = _principal(info)
        region = _region(principal, region_code)
        rows = selectors.pemda_rows(selectors.PemdaFilter(q=region.code))
        row = next(r for r in rows if r.code == region.code)
        onboarding = selectors.onboarding_get(region.code)
        missing = [str(m) for m in selectors.missing_evidence(onboarding)] if onboarding else []
        return _status(row, missing)

    def resolve_onboarding_stage_counts(root, info, province_code=None):
        principal = _principal(info)
        province = _province_filter(principal, province_code)
        return [
            ProvinceStageCountsType(
                province_code=row.code,
                province_name=row.name,
                total=row.total,
                launched=row.launched,
                stages=[
                    StageCountType(stage=s, label=str(Stage(s).label), count=row.counts[s])
                    for s in STAGE_ORDER
                ],
            )
            for row in selectors.province_rows(province_code=province)
        ]

    def resolve_onboarding_timeline(root, info, region_code):
        principal = _principal(info)
        region = _region(principal, region_code)
        onboarding = selectors.onboarding_get(region.code)
        if onboarding is None:
            return []
        return [
            TimelineEntryType(
                at=t.at,
                kind=t.kind,
                from_stage=t.from_stage,
                to_stage=t.to_stage,
                actor=str(t.actor) if t.actor else None,
                note=t.note,
            )
            for t in selectors.timeline(onboarding)
        ]
