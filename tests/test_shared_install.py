"""The shared install's files (Dockerfile, compose.yaml, deploy/) checked where Docker cannot
run, and the same three services run natively: PostgreSQL set up by deploy/initdb.sh, the app
(`stockroom serve`) and the scheduler (`stockroom schedule --all-companies`), with compose's
environment."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import yaml
from dockerfile_parse import DockerfileParser
from typer.testing import CliRunner

from stockroom import config, workbench
from stockroom_jobs.cli import app as cli

ROOT = config.PROJECT_ROOT
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())


def _stockroom_command(argv: list[str]) -> None:
    """``argv`` is a real Stockroom command whose options exist (its --help answers)."""
    assert argv[0] == "stockroom", argv
    options = [a for a in argv[1:] if a.startswith("--")]
    words = [a for a in argv[1:] if not a.startswith("-") and not re.fullmatch(r"[\d.]+", a)]
    result = CliRunner().invoke(cli, [*words[:1], "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for option in options:
        assert option in result.output, f"{argv}: {option} is not an option of {words[0]}"


def test_the_dockerfile_builds_from_the_lock_and_runs_the_app_unprivileged():
    parsed = DockerfileParser(path=str(ROOT / "Dockerfile"))
    assert parsed.baseimage.startswith("python:3.11")
    instructions = [(i["instruction"], i["value"]) for i in parsed.structure]
    for kind, value in instructions:
        if kind == "COPY":  # every file the image copies is in the repository
            *sources, _ = value.split()
            for source in sources:
                assert (ROOT / source).exists(), source
    runs = " ".join(v for k, v in instructions if k == "RUN")
    assert "scripts/setup.sh" in runs  # the same locked, hash-checked install as a laptop
    users = [v for k, v in instructions if k == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(k == "HEALTHCHECK" and "_stcore/health" in v for k, v in instructions)
    _stockroom_command(yaml.safe_load(parsed.cmd))  # the JSON form of CMD
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".env", "deploy/secrets.toml", ".streamlit/secrets.toml"} <= set(ignored)


def test_compose_runs_the_app_postgresql_and_the_scheduler():
    services = COMPOSE["services"]
    assert set(services) == {"db", "app", "scheduler"}
    _stockroom_command(services["app"]["command"])
    _stockroom_command(services["scheduler"]["command"])
    assert "--all-companies" in services["scheduler"]["command"]
    env = services["app"]["environment"]
    assert services["scheduler"]["environment"] == env  # one configuration for both
    documented = config.__doc__
    for name in env:  # every variable is one Stockroom reads (config's table)
        assert f"``{name}``" in documented, name
    assert env["STOCKROOM_DB_URL"].startswith("postgresql+psycopg://stockroom:")
    for service in ("app", "scheduler"):
        assert services[service]["depends_on"]["db"]["condition"] == "service_healthy"
        assert "companies:/data" in services[service]["volumes"]
    mounts = [v.split(":")[0] for v in services["db"]["volumes"] + services["app"]["volumes"]]
    for mount in mounts:
        if mount.startswith("./"):
            example = mount.replace("secrets.toml", "secrets.example.toml")
            assert (ROOT / example).exists(), mount
    # secrets come from .env (never committed) and are required, not defaulted
    for name in ("POSTGRES_PASSWORD", "STOCKROOM_DB_PASSWORD", "STOCKROOM_SECRET_KEY"):
        assert f"${{{name}:?" in (ROOT / "compose.yaml").read_text(), name
    ignored = (ROOT / ".gitignore").read_text().split()
    assert ".env" in ignored and "deploy/secrets.toml" in ignored


def _psql() -> str:
    found = shutil.which("psql") or next(
        iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"), reverse=True)), None
    )
    if not found:
        pytest.skip("psql not installed")
    return str(found)


def test_the_same_services_run_natively(postgres, tmp_path, monkeypatch):
    """deploy/initdb.sh on a fresh PostgreSQL, then the app and the scheduler with compose's
    environment (the database URL with the app's role, the secret key, the data volume)."""
    url = sa.make_url(postgres)
    superuser = url.set(username="postgres", database="postgres")
    admin = sa.create_engine(superuser, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # the fixture made the app's role: start from a bare server
        conn.exec_driver_sql("DROP DATABASE stockroom")
        conn.exec_driver_sql("DROP ROLE stockroom")
    admin.dispose()
    psql = _psql()
    env = dict(
        os.environ,
        PATH=f"{Path(psql).parent}:{os.environ['PATH']}",
        PGHOST=url.host,
        PGPORT=str(url.port),
        STOCKROOM_DB_PASSWORD="app-pass-123",
    )
    subprocess.run(["bash", str(ROOT / "deploy" / "initdb.sh")], env=env, check=True)
    data = tmp_path / "data"
    compose_env = {
        key: value.replace("${STOCKROOM_DB_PASSWORD}", "app-pass-123").replace(
            "@db:5432", f"@{url.host}:{url.port}"
        )
        for key, value in COMPOSE["services"]["app"]["environment"].items()
    }
    compose_env |= {
        "STOCKROOM_DATA_ROOT": str(data),
        "STOCKROOM_SECRET_KEY": "ZmFrZS1rZXktZm9yLXRlc3RzLW9ubHktMzItYnl0ZXM=",
        "STOCKROOM_SESSION_HOURS": "12",
    }
    for key, value in compose_env.items():  # this process reads the database as they do
        monkeypatch.setenv(key, value)
    run_env = dict(os.environ)

    def stockroom(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "stockroom_jobs.cli", *args],
            env=run_env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    added = stockroom("company", "add", "acme", "--name", "Acme", "--admin", "ana@acme.example")
    assert added.returncode == 0, added.stderr
    scheduled = stockroom("schedule", "--all-companies", "--once")
    assert scheduled.returncode == 0, scheduled.stderr
    # the scheduler's steps are the company's, in the shared database, under the app's role
    eng = workbench.engine(data / "companies" / "acme")
    with eng.connect() as conn:
        assert conn.execute(sa.text("SELECT current_user")).scalar() == "stockroom"
        steps = conn.execute(sa.select(workbench.daily_steps.c.company_id)).scalars().all()
    assert steps and set(steps) == {"acme"}
    # the app answers its health check with the same environment
    with socket.socket() as probe:  # a free port on the loopback
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "stockroom_jobs.cli", "serve", "--port", str(port)],
        env=run_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text == "ok":
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "the app exited"
            time.sleep(0.3)
        else:
            pytest.fail("the app did not answer its health check")
    finally:
        server.terminate()
        server.wait(10)
