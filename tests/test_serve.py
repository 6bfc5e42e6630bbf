"""`stockroom serve` is the server process itself: stopping it leaves nothing behind."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx

from stockroom.config import PROJECT_ROOT
from tests.conftest import load_browser


def test_stopping_serve_stops_streamlit(tmp_path):
    port = load_browser().free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "stockroom_jobs.cli",
            "serve",
            "--port",
            str(port),
            "--data-root",
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2).text == "ok":
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        proc.kill()
        raise AssertionError("the app did not come up")
    proc.terminate()
    proc.wait(30)
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", f"server.port {port}"], capture_output=True, text=True)
    assert left.stdout.strip() == ""
    try:
        httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
        answered = True
    except httpx.HTTPError:
        answered = False
    assert not answered
