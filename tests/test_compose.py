"""The deployment file as an operator runs it. This machine has no Docker engine (nor the
compose plugin), so `docker compose config` cannot check it here; the keys it relies on are
checked instead: one image built once, healthchecks with `service_healthy` dependencies,
every secret from `.env` (required, listed in `.env.example`, never written in the file)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
INTAKE = ("api", "worker", "worker-quick")
SECRETS = ("POSTGRES_PASSWORD", "REDIS_PASSWORD")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def test_one_image_built_once_for_the_api_and_the_workers(compose):
    services = compose["services"]
    images = {services[name]["image"] for name in INTAKE}
    assert len(images) == 1
    built = [name for name, service in services.items() if "build" in service]
    assert built == ["api"]
    assert services["api"]["pull_policy"] == "build"
    assert all(services[name]["pull_policy"] == "never" for name in INTAKE[1:])


def test_every_service_others_wait_for_is_healthy_first(compose):
    services = compose["services"]
    for name in ("api", "redis", "postgres"):
        assert services[name]["healthcheck"]["test"], name
    for name in INTAKE:
        depends = services[name]["depends_on"]
        assert depends == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }, name
    assert "/healthz" in " ".join(services["api"]["healthcheck"]["test"])
    assert "ping" in " ".join(services["redis"]["healthcheck"]["test"])


def test_the_api_runs_as_many_processes_as_asked(compose):
    command = compose["services"]["api"]["command"]
    assert command[:2] == ["intake", "serve"] and "--workers" in command


def test_secrets_come_from_the_env_file_and_are_required():
    text = COMPOSE.read_text(encoding="utf-8")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in SECRETS:
        uses = re.findall(r"\$\{" + name + r"(:\?[^}]*)?\}", text)
        assert uses and all(u.startswith(":?") for u in uses), f"{name} must be required"
        assert re.search(rf"^{name}=$", example, re.MULTILINE), f"{name} not in .env.example"
    assert not re.search(r"(?i)password\s*[:=]\s*['\"]?[A-Za-z0-9]{6,}", text)
    assert ".env" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


@pytest.mark.skipif(
    shutil.which("docker") is None
    or subprocess.run(["docker", "compose", "version"], capture_output=True).returncode != 0,
    reason="the docker compose plugin is not installed here",
)
def test_docker_compose_accepts_it(tmp_path):
    env = tmp_path / ".env"
    env.write_text("POSTGRES_PASSWORD=x1\nREDIS_PASSWORD=x2\n", encoding="utf-8")
    done = subprocess.run(
        ["docker", "compose", "-f", str(COMPOSE), "--env-file", str(env), "config", "-q"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
