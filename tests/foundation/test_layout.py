import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_platform_folder_does_not_shadow_the_standard_library():
    assert not (ROOT / "platform" / "__init__.py").exists()
    done = subprocess.run(
        [sys.executable, "-c", "import uuid, platform; print(platform.system()); uuid.uuid4()"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Linux"


def test_project_layout_exists():
    for name in ("platform/siaga112", "tenants", "incidents", "onboarding", "reporting",
                 "frontend/templates", "frontend/package-lock.json", "infra/Dockerfile",
                 "infra/docker-compose.yml", "pyproject.toml", "README.md", "constraints.txt"):
        assert (ROOT / name).exists(), name


def test_no_migrations_missing():
    done = subprocess.run(
        [sys.executable, "-m", "siaga112.cli", "makemigrations", "--check", "--dry-run"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
