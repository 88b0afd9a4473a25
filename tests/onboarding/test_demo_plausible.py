"""The demo's onboarding history reads like a real one: the national console's median
days per stage are not round numbers, and the stalled Pemda did not all stall on the
same day (a demo where every median is "120,0 hari" and every stalled Pemda has been
waiting exactly "6 bulan, 2 minggu" looks generated)."""

from __future__ import annotations

import pytest

from onboarding import selectors

pytestmark = pytest.mark.django_db


def test_median_days_per_stage_are_not_all_round():
    medians = [row[2] for row in selectors.median_days_per_stage() if row[2] is not None]
    assert len(medians) >= 4, medians
    assert len(set(medians)) == len(medians), medians
    assert sum(1 for m in medians if float(m).is_integer() and m % 10 == 0) <= 1, medians


def test_stalled_pemda_stalled_on_different_days():
    entered = [ob.stage_entered_at.date() for ob in selectors.stalled()]
    assert len(entered) >= 5, entered
    assert len(set(entered)) >= len(entered) * 0.6, sorted(entered)
    weeks = {d.isocalendar()[:2] for d in entered}
    assert len(weeks) >= 4, sorted(entered)
