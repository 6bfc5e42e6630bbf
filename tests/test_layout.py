"""The house: every package folder is installed, settings are read in one module, the CLI is
one module per command group, and the layer contracts hold (checked by import-linter)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from stockroom.config import PROJECT_ROOT

PACKAGE_DIRS = {
    "stockroom": "lib/stockroom",
    "stockroom_jobs": "jobs",
    "stockroom_bench": "benchmarks",
}


def test_pyproject_installs_every_package_folder():
    setuptools = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"] == PACKAGE_DIRS
    found = set()
    for name, folder in PACKAGE_DIRS.items():
        for init in (PROJECT_ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(PROJECT_ROOT / folder)
            found.add(".".join([name, *rel.parts]))
    assert set(setuptools["packages"]) == found


def test_stockroom_settings_are_read_only_in_the_config_module():
    reads = re.compile(
        r"os\.environ(\.get)?\(?\[?\s*f?[\"']STOCKROOM_|getenv\(\s*f?[\"']STOCKROOM_"
    )
    offenders = []
    for folder in ("lib", "jobs", "benchmarks", "app_pages", "scripts"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            if path.name == "config.py" and path.parent.name == "stockroom":
                continue
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if reads.search(line):
                    offenders.append(f"{path.relative_to(PROJECT_ROOT)}:{n}")
    assert offenders == []


def test_cli_is_one_module_per_command_group():
    from stockroom_jobs import cli

    groups = {p.stem for p in (PROJECT_ROOT / "jobs" / "cli").glob("*.py")} - {
        "__init__",
        "__main__",
        "common",
    }
    assert groups == {
        "ingest", "procure", "forecast", "reconcile", "mapping", "bench", "ops", "own", "daily",
        "holdings", "market", "resale", "company", "scale",
    }  # fmt: skip
    assert {module for module, _, _ in cli.COMMANDS.values()} == groups
    for name in cli.COMMANDS:  # every command loads from its group's module, under its name
        command = cli.load_command(name)
        assert command.name == name and (command.help or command.callback.__doc__)
    for path in (PROJECT_ROOT / "jobs" / "cli").glob("*.py"):
        assert len(path.read_text().splitlines()) < 400, path


def test_root_help_lists_every_command_without_loading_them():
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.argv = ['stockroom', '--help']\n"
            "from stockroom_jobs.cli import main\ntry:\n    main()\nexcept SystemExit:\n"
            "    pass\nprint(sorted(m for m in sys.modules if m.startswith('stockroom_jobs.cli.')"
            " or m in ('xgboost', 'papermill')))",
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    from stockroom_jobs import cli

    for name in cli.COMMANDS:
        assert f" {name} " in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "[]"  # no group module, no heavy library
    bad = subprocess.run(
        [sys.executable, "-m", "stockroom_jobs.cli", "nonsense"],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
    )
    assert bad.returncode == 2 and "No such command" in bad.stderr


def test_layer_contracts_hold():
    """The library imports no job, page or Streamlit; pages no job; jobs no page (the
    contracts in pyproject.toml, checked by import-linter as CI does)."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run([str(lint_imports)], capture_output=True, text=True, cwd=PROJECT_ROOT)
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert proc.stdout.count("KEPT") == 4
