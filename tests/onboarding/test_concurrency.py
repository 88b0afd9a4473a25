"""Two officers press 'advance' on the same Pemda having seen the same version:
one wins, the other is told about the conflict, and the stage moves once."""

import pytest

from onboarding.models import PemdaOnboarding, Stage, TimelineEntry
from onboarding.services import VersionConflict, onboarding_advance


@pytest.mark.django_db
def test_two_advances_same_version_one_conflicts(as_user, make_user, demo_user):
    code = "71.74"  # Kotamobagu: FGD/Bimtek complete, may move to trial
    seen = PemdaOnboarding.objects.get(pk=code).version
    entries = TimelineEntry.objects.filter(onboarding_id=code).count()
    first = as_user("nasional")
    other = make_user(None, "national_officer", username="nasional2")
    from django.test import Client

    second = Client(HTTP_HOST="localhost")
    second.force_login(other, backend="django.contrib.auth.backends.ModelBackend")

    ok = first.post(f"/pemda/{code}/advance/", {"expected_version": seen})
    assert ok.status_code == 302
    clash = second.post(f"/pemda/{code}/advance/", {"expected_version": seen})
    assert clash.status_code == 409
    assert "reload" in clash.content.decode().lower() or "muat ulang" in clash.content.decode().lower()
    ob = PemdaOnboarding.objects.get(pk=code)
    assert ob.stage == Stage.TRIAL  # moved once, not twice
    assert ob.version == seen + 1
    assert TimelineEntry.objects.filter(onboarding_id=code).count() == entries + 1


@pytest.mark.django_db
def test_compare_and_set_refuses_a_stale_version_in_the_service(demo_user):
    code = "71.74"
    seen = PemdaOnboarding.objects.get(pk=code).version
    onboarding_advance(region_code=code, actor=demo_user("nasional"), expected_version=seen)
    with pytest.raises(VersionConflict):
        onboarding_advance(region_code=code, actor=demo_user("nasional"), expected_version=seen)
    assert PemdaOnboarding.objects.get(pk=code).version == seen + 1


def test_truly_concurrent_advances_meet_at_the_row(committed):
    """Both transactions pass the version check before either commits; the
    UPDATE ... WHERE version = seen lets exactly one through."""
    import threading
    import time

    from django.db import connection, transaction

    from accounts.models import User
    from tenants.models import Tenant

    code = "71.74"
    before = PemdaOnboarding.objects.get(pk=code)
    tenant_status = Tenant.objects.get(region_id=code).status
    last_entry = TimelineEntry.objects.filter(onboarding_id=code).order_by("-id").first()
    actor = User.objects.get(username="nasional")
    seen = before.version
    first_done, release = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                onboarding_advance(region_code=code, actor=actor, expected_version=seen)
                first_done.set()
                release.wait(10)  # hold the row lock until the second is waiting on it
            outcome["first"] = "ok"
        except Exception as exc:  # noqa: BLE001
            outcome["first"] = exc
        finally:
            first_done.set()
            connection.close()

    def second() -> None:
        try:
            onboarding_advance(region_code=code, actor=actor, expected_version=seen)
            outcome["second"] = "ok"
        except Exception as exc:  # noqa: BLE001
            outcome["second"] = exc
        finally:
            connection.close()

    t1 = threading.Thread(target=first)
    t1.start()
    assert first_done.wait(10)
    t2 = threading.Thread(target=second)
    t2.start()
    time.sleep(0.5)  # second has read version `seen` and now blocks on the UPDATE
    release.set()
    t1.join(10)
    t2.join(10)
    try:
        assert outcome["first"] == "ok"
        assert isinstance(outcome["second"], VersionConflict)
        after = PemdaOnboarding.objects.get(pk=code)
        assert after.stage == Stage.TRIAL and after.version == seen + 1
        assert TimelineEntry.objects.filter(onboarding_id=code, id__gt=last_entry.id).count() == 1
    finally:
        TimelineEntry.objects.filter(onboarding_id=code, id__gt=last_entry.id).delete()
        PemdaOnboarding.objects.filter(pk=code).update(
            stage=before.stage, version=before.version, stage_entered_at=before.stage_entered_at)
        Tenant.objects.filter(region_id=code).update(status=tenant_status)
