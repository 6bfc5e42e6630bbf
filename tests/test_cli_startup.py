"""The CLI starts fast: building any command (what `stockroom <cmd> --help` and every run pay
before the command's body) loads none of the heavy stack. A command imports what it needs when
it runs. Timings live in README (measured); this checks the cause, which cannot be noisy."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("polars", "pandas", "pandera", "sqlalchemy", "duckdb", "xgboost", "streamlit", "papermill")

PROBE = """
import json, sys
from stockroom_jobs.cli import COMMANDS, load_command

def walk(cmd):
    yield cmd
    if getattr(cmd, "commands", None):
        for sub in cmd.commands.values():
            yield from walk(sub)

names = []
for name in COMMANDS:
    for cmd in walk(load_command(name)):
        names.append(cmd.name)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in %r)
print(json.dumps({"commands": names, "heavy": heavy}))
"""


def test_every_command_builds_without_the_heavy_stack():
    out = subprocess.run(
        [sys.executable, "-c", PROBE % (HEAVY,)], capture_output=True, text=True, check=True
    )
    probe = json.loads(out.stdout)
    # the walk reached the sub-commands, so the check covers them too
    assert {"olist", "listings", "add", "list", "forecast", "serve"} <= set(probe["commands"])
    assert probe["heavy"] == []


def test_help_of_a_command_runs_without_the_heavy_stack():
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['stockroom', 'ingest', 'olist', '--help']\n"
        "try:\n"
        "    runpy.run_module('stockroom_jobs.cli', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "Land the Olist marketplace export" in out.stdout
    assert out.stdout.strip().splitlines()[-1] == "[]"
