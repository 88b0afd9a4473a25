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


def test_the_demo_serves_with_the_production_server_of_the_docker_image(monkeypatch):
    """`make demo` runs the Docker image's server with its configuration
    (siaga112.webserver: granian, WSGI), never Django's development server (nor its
    auto-reloader)."""
    from pathlib import Path

    from siaga112 import webserver
    from siaga112.cli import web_command

    for name in ("WEB_CONCURRENCY", "WEB_THREADS", "WEB_MAX_RSS_MIB", "WEB_LIFETIME",
                 "WEB_PORT", "WEB_HOST"):
        monkeypatch.delenv(name, raising=False)
    command = web_command(8123)
    assert command[1:5] == ["-m", "granian", "--interface", "wsgi"]
    assert "runserver" not in command and "--reload" not in command
    assert command[-1] == "siaga112.wsgi:application"
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--port") + 1] == "8123"
    assert command == webserver.command(8123, "0.0.0.0")
    # The image runs the same module, which runs the same command line.
    dockerfile = (Path(__file__).resolve().parents[2] / "infra" / "Dockerfile").read_text()
    assert 'CMD ["python", "-m", "siaga112.webserver"]' in dockerfile
    executed: list[list[str]] = []
    monkeypatch.setattr(webserver.os, "execv", lambda path, args: executed.append(list(args)))
    webserver.main()
    assert executed == [webserver.command(8000, "0.0.0.0")]


def test_the_web_server_settings_come_from_the_environment(monkeypatch):
    from siaga112 import webserver

    env = {"WEB_CONCURRENCY": "3", "WEB_THREADS": "2", "WEB_MAX_RSS_MIB": "0",
           "WEB_LIFETIME": "3600", "WEB_KILL_TIMEOUT": "5"}
    command = webserver.command(9000, "127.0.0.1", environ=env)
    assert command[command.index("--workers") + 1] == "3"
    assert command[command.index("--blocking-threads") + 1] == "2"
    assert command[command.index("--workers-lifetime") + 1] == "3600"
    assert command[command.index("--workers-kill-timeout") + 1] == "5"
    assert "--workers-max-rss" not in command  # 0: never replaced for its memory
    default = webserver.command(9000, "127.0.0.1", environ={})
    assert default[default.index("--workers-max-rss") + 1] == "400"
    assert "--workers-lifetime" not in default and "--no-access-log" in default
    # A typo is one line naming the variable, not a server that starts half-configured.
    for bad, message in (({"WEB_THREADS": "four"}, "WEB_THREADS='four' is not a whole number"),
                         ({"WEB_CONCURRENCY": "-2"}, "WEB_CONCURRENCY must not be negative"),
                         ({"WEB_LIFETIME": "30"}, "WEB_LIFETIME is at least 60 seconds")):
        with pytest.raises(SystemExit, match=message):
            webserver.command(9000, environ=bad)


def test_the_demo_names_the_port_it_serves_before_django_reads_its_settings():
    """`siaga112 demo 8200` printed logins on :8000 (the settings' default), read before
    the port was known. The port goes into the environment first; a value the
    developer set (a proxy in front) still wins."""
    from siaga112.cli import demo_environment

    env: dict[str, str] = {}
    demo_environment(env, 8200)
    assert env["SIAGA112_PUBLIC_PORT"] == "8200" and env["SIAGA112_EVENTS_PORT"] == "8201"
    assert env["SIAGA112_DEBUG"] == "1" and env["SIAGA112_DEBUG_PAGES"] == "0"
    behind_proxy = {"SIAGA112_PUBLIC_PORT": "443"}
    demo_environment(behind_proxy, 8200)
    assert behind_proxy["SIAGA112_PUBLIC_PORT"] == "443"
