"""GraphQL onboarding data: national officers see all, provincial officers their
province, everybody else is refused (through onboarding.policies)."""

from __future__ import annotations

import json

import pytest

COUNTS = "{ onboardingStageCounts(provinceCode: %s) { provinceCode launched total stages { stage count } } }"
STATUSES = "{ onboardingStatuses%s { regionCode provinceCode stage launchOrdinal } }"
TIMELINE = '{ onboardingTimeline(regionCode: "12.11") { kind fromStage toStage note } }'
STATUS = '{ onboardingStatus(regionCode: "%s") { regionCode stage launchOrdinal missing } }'


def _q(client, query):
    response = client.post("/graphql/", json.dumps({"query": query}), content_type="application/json")
    return response.json()


@pytest.mark.django_db
def test_national_officer_sees_everything(as_user):
    client = as_user("nasional")
    data = _q(client, COUNTS % '"35"')["data"]["onboardingStageCounts"]
    stages = {s["stage"]: s["count"] for s in data[0]["stages"]}
    assert (data[0]["launched"], stages["trial"], stages["application"]) == (15, 4, 1)
    everything = _q(client, STATUSES % "")["data"]["onboardingStatuses"]
    assert len(everything) == 514
    assert sum(1 for r in everything if r["stage"] == "launched") == 120
    sidoarjo = _q(client, STATUS % "35.15")["data"]["onboardingStatus"]
    assert sidoarjo["launchOrdinal"] == 87
    dairi = _q(client, STATUS % "12.11")["data"]["onboardingStatus"]
    assert dairi["stage"] == "trial" and any("Smartfren" in m for m in dairi["missing"])
    timeline = _q(client, TIMELINE)["data"]["onboardingTimeline"]
    assert [t["toStage"] for t in timeline if t["kind"] == "advance"][0] == "trial"


@pytest.mark.django_db
def test_provincial_officer_is_limited_to_their_province(as_user):
    client = as_user("prov.sumut")
    rows = _q(client, STATUSES % "")["data"]["onboardingStatuses"]
    assert rows and {r["provinceCode"] for r in rows} == {"12"}
    counts = _q(client, COUNTS % "null")["data"]["onboardingStageCounts"]
    assert [c["provinceCode"] for c in counts] == ["12"]
    assert _q(client, TIMELINE)["data"]["onboardingTimeline"]
    other = _q(client, COUNTS % '"35"')
    assert other["data"] is None and "outside your province" in other["errors"][0]["message"]
    sidoarjo = _q(client, STATUS % "35.15")
    assert sidoarjo["data"]["onboardingStatus"] is None and sidoarjo["errors"]
    jatim = _q(as_user("prov.jatim"), TIMELINE)
    assert jatim["data"] is None and jatim["errors"]


@pytest.mark.django_db
@pytest.mark.parametrize("username", [None, "koordinator.dairi", "auditor"])
def test_others_are_refused(as_user, username):
    client = as_user(username)
    for query in (COUNTS % "null", STATUSES % "", TIMELINE):
        result = _q(client, query)
        assert result["data"] is None
        assert "Permission denied" in result["errors"][0]["message"]
