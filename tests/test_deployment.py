"""Dockerfile and docker-compose.yml (no container engine on the test machine: their content is checked,
and the Dockerfile's build-time environment is proven to satisfy the production settings)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def dockerfile() -> str:
    # Join continuation lines so each instruction is one line.
    return re.sub(r"\\\n\s*", " ", (ROOT / "Dockerfile").read_text())


def _stages(dockerfile: str) -> dict[str, list[str]]:
    stages: dict[str, list[str]] = {}
    current = None
    for line in dockerfile.splitlines():
        line = line.strip()
        if match := re.match(r"FROM\s+\S+\s+AS\s+(\w+)", line, flags=re.I):
            current = match.group(1)
            stages[current] = []
        elif current and line and not line.startswith("#"):
            stages[current].append(line)
    return stages


def _command(service: dict) -> str:
    command = service["command"]
    return command if isinstance(command, str) else " ".join(command)


def test_compose_has_the_whole_stack(compose):
    assert set(compose["services"]) == {"postgres", "redis", "migrate", "web", "worker", "beat"}


def test_web_worker_and_beat_run_the_right_processes(compose):
    services = compose["services"]
    assert "uvicorn incentiva.asgi:application" in _command(services["web"])
    assert _command(services["worker"]).startswith("celery -A incentiva worker")
    beat = _command(services["beat"])
    assert beat.startswith("celery -A incentiva beat")
    assert "-S django_celery_beat.schedulers:DatabaseScheduler" in beat


def test_migrate_is_a_one_shot_job_in_the_right_order(compose):
    migrate = compose["services"]["migrate"]
    steps = [step.strip() for step in _command(migrate).split("&&")]

    assert steps[0].endswith("python manage.py migrate_schemas --shared")
    assert steps[1].startswith("python manage.py bootstrap_platform")
    assert steps[2] == "python manage.py migrate_schemas"
    assert migrate["restart"] == "no"


def test_the_app_waits_for_migrations_and_healthy_stores(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["redis"]["condition"] == "service_healthy", name
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthcheck" in services["postgres"]
    assert "healthcheck" in services["redis"]


def test_every_app_service_runs_production_settings_with_real_stores(compose):
    for name in ("migrate", "web", "worker", "beat"):
        env = compose["services"][name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "incentiva.settings.production", name
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["REDIS_URL"] == "redis://redis:6379"
        # Secrets are required from the environment, never defaulted in the file.
        for secret in ("SECRET_KEY", "FIELD_ENCRYPTION_KEY"):
            assert re.fullmatch(r"\$\{" + secret + r":\?[^}]+\}", env[secret]), (name, secret)


def test_worker_and_beat_do_not_inherit_the_web_healthcheck(compose):
    services = compose["services"]
    assert services["beat"]["healthcheck"] == {"disable": True}
    assert "inspect ping" in " ".join(services["worker"]["healthcheck"]["test"])


def test_dockerfile_is_multi_stage_with_a_slim_runtime(dockerfile):
    stages = _stages(dockerfile)

    assert list(stages) == ["assets", "builder", "runtime"]
    assert re.search(r"FROM python:\$\{PYTHON_VERSION\}-slim\S* AS runtime", dockerfile)
    runtime = "\n".join(stages["runtime"])
    assert "COPY --from=builder /opt/venv /opt/venv" in runtime
    assert "build-essential" not in runtime


def test_the_front_end_libraries_come_from_the_npm_lock_into_the_static_files(dockerfile):
    stages = _stages(dockerfile)
    assets = "\n".join(stages["assets"])
    builder = "\n".join(stages["builder"])

    assert "COPY package.json package-lock.json ./" in assets
    assert "npm ci" in assets
    assert "COPY --from=assets /assets/node_modules ./node_modules" in builder
    # Collected into STATIC_ROOT, then dropped: node_modules never reaches the runtime image.
    assert builder.index("--from=assets") < builder.index("collectstatic") < builder.index("rm -rf node_modules")


def test_the_builder_installs_the_lock_compiles_catalogs_and_collects_static(dockerfile):
    builder = "\n".join(_stages(dockerfile)["builder"])

    assert "requirements.lock" in builder
    assert "--compile-bytecode" in builder
    assert "python manage.py compile_catalogs" in builder
    assert "python manage.py collectstatic --noinput" in builder


def test_the_runtime_runs_as_an_unprivileged_user(dockerfile):
    users = [line.split()[1] for line in _stages(dockerfile)["runtime"] if line.startswith("USER ")]

    assert users, "no USER instruction"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_the_runtime_probes_healthz_and_serves_http_with_production_settings(dockerfile):
    runtime = "\n".join(_stages(dockerfile)["runtime"])

    assert re.search(r"HEALTHCHECK .*http://127\.0\.0\.1:8000/healthz", runtime)
    assert "DJANGO_SETTINGS_MODULE=incentiva.settings.production" in runtime
    [cmd] = [line for line in _stages(dockerfile)["runtime"] if line.startswith("CMD ")]
    # HTTP on gunicorn's sync workers with kept connections (what bench/ledger.py measures by default);
    # websockets on the ASGI server, the same image with the command its comment and docs/operations.md give.
    assert "gunicorn incentiva.wsgi:application" in cmd
    # Workers: WEB_CONCURRENCY when set, else the CPUs the container may use plus one.
    assert "--worker-class sync" in cmd and '--workers \\"${WEB_CONCURRENCY:-$(( $(nproc) + 1 ))}\\"' in cmd
    assert 'CONN_MAX_AGE=\\"${CONN_MAX_AGE:-60}\\"' in cmd
    assert "uvicorn incentiva.asgi:application" in (ROOT / "Dockerfile").read_text()


def test_the_builders_dummy_environment_satisfies_production_settings(dockerfile):
    """The build runs manage.py with production settings: its ENV must pass every refusal there."""
    env_lines = [line[len("ENV "):] for line in _stages(dockerfile)["builder"] if line.startswith("ENV ")]
    build_env = dict(pair.split("=", 1) for line in env_lines for pair in shlex.split(line) if "=" in pair)
    build_env.pop("PATH", None)

    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; "
                               "print(settings.STATIC_ROOT)"],
        cwd=ROOT, env={"PATH": os.environ.get("PATH", ""), "HOME": "/tmp", **build_env},
        capture_output=True, text=True, timeout=60, check=False,
    )

    assert build_env["DJANGO_SETTINGS_MODULE"] == "incentiva.settings.production"
    assert result.returncode == 0, result.stderr[-2000:]


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}

    assert {".git", ".venv", ".incentiva", ".env", "staticfiles"} <= ignored
