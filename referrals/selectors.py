"""Reads of the cross-Pemda exchange. They work from the public schema and from
any tenant schema (the tenant's search_path includes public)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, IntegerField, QuerySet, Value, When

from referrals.models import Referral, ReferralUpdate
from tenants.models import Tenant
from tenants.selectors import pemda_tenants


def inbox_for(schema: str) -> QuerySet[Referral]:
    """Referrals other Pemda sent to `schema`, newest first."""
    return Referral.objects.filter(to_schema=schema).order_by("-created_at", "-id")


def sent_by(schema: str) -> QuerySet[Referral]:
    """Referrals `schema` sent to other Pemda, newest first."""
    return Referral.objects.filter(from_schema=schema).order_by("-created_at", "-id")


def updates_for(referral_id: int) -> QuerySet[ReferralUpdate]:
    """The referral's timeline, oldest first (both sides' entries).
    Check the caller is a party first: referrals.services.access_referral."""
    return ReferralUpdate.objects.filter(referral_id=referral_id).order_by("at", "id")


def neighbour_tenants(schema: str) -> QuerySet[Tenant]:
    """Pemda a referral can go to: trial or live, not `schema` itself; those in
    the same province first, then the rest, by name."""
    own_province = (
        Tenant.objects.filter(schema_name=schema)
        .values_list("region__parent_id", flat=True)
        .first()
    )
    return (
        pemda_tenants(operating=True)
        .exclude(schema_name=schema)
        .annotate(
            same_province=Case(
                When(region__parent_id=own_province, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("same_province", "name")
    )


def tenant_labels(schemas: Iterable[str]) -> dict[str, str]:
    """{schema: "Kab. Sidoarjo"} for showing the other side of a referral."""
    wanted = set(schemas)
    return {
        t.schema_name: (t.region.short_name if t.region else t.name)
        for t in Tenant.objects.filter(schema_name__in=wanted).select_related("region")
    }
