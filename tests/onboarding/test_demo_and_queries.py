"""The onboarding demo seed is idempotent and consistent with each stage; the
console pages do a bounded number of queries whatever the number of Pemda."""

from __future__ import annotations

import pytest

from onboarding import selectors
from onboarding.demo import seed_onboarding_demo
from onboarding.models import (
    Application,
    Launch,
    OperatorRouting,
    PemdaOnboarding,
    Stage,
    TrainingSession,
    TrialCall,
    VerificationVisit,
)

EVIDENCE = (Application, VerificationVisit, OperatorRouting, TrainingSession, TrialCall, Launch)

SECOND_FACTOR = 2


@pytest.mark.django_db
def test_demo_seed_is_idempotent():
    before = [m.objects.count() for m in EVIDENCE]
    seed_onboarding_demo()
    assert [m.objects.count() for m in EVIDENCE] == before


@pytest.mark.django_db
def test_demo_evidence_matches_each_stage():
    # Every demo Pemda past a stage has what that stage needed: only the current
    # stage may be incomplete. Launched ones have nothing missing at all.
    for ob in PemdaOnboarding.objects.filter(stage=Stage.LAUNCHED).select_related("region")[:20]:
        assert Launch.objects.get(onboarding=ob).launched_on == ob.launched_on
    assert Launch.objects.count() == PemdaOnboarding.objects.filter(stage=Stage.LAUNCHED).count()
    kotamobagu = PemdaOnboarding.objects.get(pk="71.74")
    assert selectors.missing_evidence(kotamobagu) == []
    assert len(kotamobagu.training_sessions.get().opd_list) == 14
    assert len(selectors.map_points()) == Application.objects.count() > 150


@pytest.mark.django_db
# django-tenants issues a SET search_path before each query: half of each budget.
# + SECOND_FACTOR: the national officer's session loads its two-factor device
# (django-otp's middleware) on every request, one query and its search_path.
@pytest.mark.parametrize("url,limit", [
    ("/", 25 + SECOND_FACTOR), ("/provinsi/35/", 25 + SECOND_FACTOR),
    ("/pemda/", 12 + SECOND_FACTOR), ("/pemda/?format=csv", 12 + SECOND_FACTOR),
    ("/pemda/12.11/", 44 + SECOND_FACTOR),
])
def test_console_queries_are_bounded(as_user, django_assert_max_num_queries, url, limit):
    client = as_user("nasional")
    with django_assert_max_num_queries(limit):
        assert client.get(url).status_code == 200
