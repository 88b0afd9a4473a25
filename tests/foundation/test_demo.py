"""The demo seed: press-reported stages, one user per role, safe to run twice."""

import json

import pytest
from django_tenants.utils import schema_context
from siaga112.demo import DEMO_PASSWORD, seed_demo

from accounts.models import Role, User
from onboarding.models import PemdaOnboarding, Stage
from tenants.models import Tenant


@pytest.fixture
def seeded(db):
    """The session already ran the seed once (conftest); run it again here."""
    before = (
        {s: PemdaOnboarding.objects.filter(stage=s).count() for s in Stage},
        Tenant.objects.count(),
        User.objects.count(),
    )
    second = seed_demo()
    after = (
        {s: PemdaOnboarding.objects.filter(stage=s).count() for s in Stage},
        Tenant.objects.count(),
        User.objects.count(),
    )
    return before, after, second


@pytest.mark.django_db
def test_seed_twice_gives_the_same_picture(seeded):
    before, after, second = seeded
    assert before == after
    assert sum(second.counts.values()) == 514
    assert second.counts["launched"] == 120


@pytest.mark.django_db
def test_jawa_timur_as_of_november_2023(seeded):
    jatim = PemdaOnboarding.objects.filter(region__parent__name="Jawa Timur")
    assert jatim.filter(stage=Stage.LAUNCHED).count() == 15
    assert jatim.filter(stage=Stage.TRIAL).count() == 4
    assert jatim.filter(stage=Stage.APPLICATION).count() == 1
    assert jatim.get(region__name="Kabupaten Situbondo").stage == Stage.APPLICATION


@pytest.mark.django_db
def test_sidoarjo_is_the_87th_launch(seeded):
    sidoarjo = PemdaOnboarding.objects.get(region__name="Kabupaten Sidoarjo")
    assert str(sidoarjo.launched_on) == "2022-06-20"
    earlier = PemdaOnboarding.objects.filter(stage=Stage.LAUNCHED,
                                             launched_on__lt=sidoarjo.launched_on).count()
    assert earlier + 1 == 87


@pytest.mark.django_db
def test_named_pemda_elsewhere(seeded):
    assert PemdaOnboarding.objects.get(region__name="Kabupaten Dairi").stage == Stage.TRIAL
    assert PemdaOnboarding.objects.get(region__name="Kota Kotamobagu").stage == Stage.TRAINING
    assert Tenant.objects.get(region__name="Kabupaten Dairi").status == Tenant.Status.TRIAL
    assert PemdaOnboarding.objects.filter(is_demo=True).count() == 180
    # Other provinces are not empty.
    provinces = set(PemdaOnboarding.objects.filter(stage=Stage.LAUNCHED)
                    .values_list("region__parent_id", flat=True))
    assert len(provinces) >= 25


@pytest.mark.django_db
def test_every_pemda_past_installation_has_a_tenant(seeded):
    past = PemdaOnboarding.objects.filter(
        stage__in=[Stage.INSTALLATION, Stage.TRAINING, Stage.TRIAL, Stage.LAUNCHED]
    ).values_list("region_id", flat=True)
    with_tenant = set(Tenant.objects.filter(region__isnull=False).values_list("region_id", flat=True))
    assert set(past) <= with_tenant


@pytest.mark.django_db
def test_one_user_per_role_with_credentials_file(seeded, settings):
    data = json.loads(seeded[2].credentials_file.read_text())
    roles = {a["role"] for a in data["accounts"]}
    assert roles == {r.value for r in Role}
    assert data["password"] == DEMO_PASSWORD
    assert User.objects.get(username="nasional").check_password(DEMO_PASSWORD)
    dairi = Tenant.objects.get(region__slug="dairi")
    with schema_context(dairi.schema_name):
        assert User.objects.get(username="operator1").role == Role.CALL_TAKER


def test_the_demo_serves_with_the_production_server_of_the_docker_image():
    """`make demo` runs gunicorn with infra/gunicorn.conf.py, the Docker image's server
    and configuration, never Django's development server (nor its auto-reloader)."""
    from pathlib import Path

    from siaga112.cli import gunicorn_config, web_command

    command = web_command(8123)
    assert command[1:3] == ["-m", "gunicorn"] and "runserver" not in command
    assert command[command.index("-c") + 1] == str(gunicorn_config())
    assert command[-1] == "siaga112.wsgi:application" and "0.0.0.0:8123" in command
    assert "--reload" not in command
    dockerfile = (Path(__file__).resolve().parents[2] / "infra" / "Dockerfile").read_text()
    assert '"-c", "infra/gunicorn.conf.py"' in dockerfile
    assert "COPY infra/gunicorn.conf.py" in dockerfile
