from __future__ import annotations

from django.db.models import Count

from onboarding.models import PemdaOnboarding, Stage


def stage_counts(*, province_code: str | None = None) -> dict[str, int]:
    qs = PemdaOnboarding.objects.all()
    if province_code:
        qs = qs.filter(region__parent_id=province_code)
    counts = {s.value: 0 for s in Stage}
    for row in qs.values("stage").annotate(n=Count("pk")):
        counts[row["stage"]] = row["n"]
    return counts
