# ruff: noqa: E501 -- a probe script: one long command per line reads better than wrapped
"""Issue 14's probes, runnable against any checkout: prints one JSON line per probe.

    .venv/bin/python scripts/probes.py            # this checkout
    /tmp/base/.venv/bin/python scripts/probes.py  # another checkout, with its own Python

Each probe drives the checkout through its CLI (`python -m stockroom_jobs.cli`) or its oldest
stable functions, so the same script measures the release before the fix and after it. The
tests (tests/test_concurrency.py, tests/test_hardening.py) assert the same behaviour.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PY = sys.executable
CLI = [PY, "-m", "stockroom_jobs.cli"]
ENV = dict(os.environ, PYTHONWARNINGS="ignore", COLUMNS="400")


def cli(*args: str, root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*CLI, *args, "--data-root", str(root)], capture_output=True, text=True, env=ENV
    )


def snapshot(root: Path, table: str, day: str):
    import polars as pl

    return pl.read_parquet(
        root / "snapshots" / table / f"snapshot_date={day}" / "part-00000.parquet"
    )


def export(path: Path, seller: str, rows: int = 1000) -> Path:
    lines = ["platform,seller_id,sku,quantity,price,notes"]
    lines += [f"ebay,{seller},{seller}-{i},1,2.50," for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")
    return path


def p1_two_writers(tmp: Path, trials: int = 3, writers: int = 3, rows: int = 20_000) -> dict:
    """`writers` ingest runs of one listings day started together, `trials` times."""
    succeeded = expected = found = 0
    for trial in range(trials):
        root = tmp / f"p1-{trial}"
        files = [export(tmp / f"S{w}.csv", f"S{w}", rows) for w in range(writers)]
        procs = [
            subprocess.Popen(
                [*CLI, "ingest", "listings", str(p), "--snapshot-date", "2024-06-27", "--data-root", str(root)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
            )
            for p in files
        ]  # fmt: skip
        succeeded += sum(p.wait() == 0 for p in procs)
        expected += writers * rows
        found += snapshot(root, "listings", "2024-06-27").height
    return {
        "runs": trials * writers,
        "succeeded": succeeded,
        "rows expected": expected,
        "rows found": found,
    }


def p2_numbers(tmp: Path) -> dict:
    root = tmp / "p2"
    path = tmp / "eu.csv"
    path.write_text("platform;seller_id;sku;quantity;price;notes\nebay;a;A;1;1,50;\nebay;a;B;1;inf;\n"
                    "ebay;a;C;1;1e400;\nebay;a;D;1;2.00;bad\x00cell\n" + "".join(f"ebay;a;G{i};1;2;\n" for i in range(80)))  # fmt: skip
    out = cli("ingest", "listings", str(path), "--snapshot-date", "2024-06-27", root=root)
    if out.returncode:
        return {"error": out.stderr.strip()[-200:]}
    got = snapshot(root, "listings", "2024-06-27")
    price = dict(zip(got["sku"], got["price"], strict=True))
    return {
        "1,50 landed as": price.get("A"),
        "inf landed": "B" in price,
        "1e400 landed": "C" in price,
        "NUL landed": "D" in price,
    }


def p3_kill(tmp: Path) -> dict:
    root = tmp / "p3"
    args = ["ingest", "simulate", "--listings", "3000", "--sellers", "30", "--days", "6"]
    for seed, delay in enumerate([0.0, 0.05, 0.3, 0.8, 1.4]):
        proc = subprocess.Popen([*CLI, *args, "--seed", str(seed), "--data-root", str(root)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)  # fmt: skip
        while not (root / "snapshots").exists() and proc.poll() is None:
            time.sleep(0.005)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    cli("snapshots", root=root)  # what a user runs next (recovery happens on the next open)
    days: dict[str, set] = {}
    held: dict[str, int] = {}
    for manifest in (root / "snapshots").rglob("_manifest.json"):
        m = json.loads(manifest.read_text())
        days.setdefault(m["snapshot_date"], set()).add(m["run_id"])
        held[m["run_id"]] = held.get(m["run_id"], 0) + 1
    with sqlite3.connect(root / "workbench.db") as con:
        logged = dict(con.execute("SELECT run_id, snapshots FROM job_runs").fetchall())
    staged = (
        [p for p in (root / ".staging").rglob("*") if p.is_file()]
        if (root / ".staging").exists()
        else []
    )
    return {
        "days from several runs": sum(len(r) > 1 for r in days.values()),
        "days": len(days),
        "runs whose log disagrees with the store": sum(logged.get(r, 0) < n for r, n in held.items()),
        "staged files left": len(staged),
    }  # fmt: skip


def p4_secrets(tmp: Path) -> dict:
    import http.server
    import threading

    seen = []

    class Other(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen.append(self.headers.get("X-Api-Key"))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"data": []}')

        def log_message(self, *a):
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Other)

    class First(Other):
        def do_GET(self):  # noqa: N802
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{other.server_port}{self.path}")
            self.end_headers()

    first = http.server.ThreadingHTTPServer(("127.0.0.1", 0), First)
    for s in (first, other):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    from stockroom.ingest.http import Fetcher

    with Fetcher(min_interval=0, respect_robots=False, headers={"X-Api-Key": "KEY-123"}) as f:
        f.get(f"http://127.0.0.1:{first.server_port}/v2/cards")
    first.shutdown(), other.shutdown()
    root = tmp / "p4"
    secret = "S3cret-pw-9Q"
    printed = stored = ""
    for url in (f"postgresql+psycopg://shop:{secret}@127.0.0.1:1/shop",
                f"postgresql+psycopg://shop@127.0.0.1:1/shop?password={secret}"):  # fmt: skip
        out = cli("ingest", "sql", url, "--table", "x", root=root)
        printed += out.stdout + out.stderr
    with sqlite3.connect(root / "workbench.db") as con:
        stored = json.dumps(con.execute("SELECT * FROM job_runs").fetchall())
    return {
        "key sent to the other origin": "KEY-123" in seen,
        "password printed": secret in printed,
        "password in job_runs": secret in stored,
    }


def p6_audit(tmp: Path) -> dict:
    root = tmp / "p6"
    env = dict(ENV, STOCKROOM_USER="ana")
    for sku in ("A", "B"):
        subprocess.run([*CLI, "po", "add", "--sku", sku, "--supplier", "Acme", "--quantity", "5",
                        "--expected", "2030-01-10", "--data-root", str(root)], env=env,
                       capture_output=True)  # fmt: skip
    con = sqlite3.connect(root / "workbench.db")
    cols = [r[1] for r in con.execute("PRAGMA table_info(audit_log)")]
    row = dict(
        zip(cols, con.execute("SELECT * FROM audit_log WHERE id = 1").fetchone(), strict=True)
    )
    actor = con.execute("SELECT actor FROM audit_log WHERE id = 1").fetchone()[0]
    result = {"signed by": actor}
    try:
        row["actor"] = "mallory"
        con.execute(f"INSERT OR REPLACE INTO audit_log ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})", list(row.values()))  # fmt: skip
        con.commit()
        result["INSERT OR REPLACE"] = "accepted"
    except sqlite3.DatabaseError as exc:
        result["INSERT OR REPLACE"] = f"refused ({exc})"
    try:
        con.execute("INSERT INTO audit_log (at, actor, entity, entity_key) VALUES ('2001-01-01 00:00:00', 'm', 'x', 'y')")  # fmt: skip
        con.commit()
        result["back-dated row"] = "accepted"
    except sqlite3.DatabaseError as exc:
        result["back-dated row"] = f"refused ({exc})"
    return result


def p7_migrations(tmp: Path) -> dict:
    failures = 0
    for trial in range(3):
        root = tmp / f"p7-{trial}"
        procs = [subprocess.Popen([*CLI, "po", "list", "--data-root", str(root)], env=ENV,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(4)]  # fmt: skip
        failures += sum(p.wait() != 0 for p in procs)
    return {"failed first opens (of 12)": failures}


def p8_empty(tmp: Path) -> dict:
    root = tmp / "p8"
    cli(
        "ingest",
        "listings",
        str(export(tmp / "full.csv", "a", 5)),
        "--snapshot-date",
        "2024-06-27",
        root=root,
    )
    empty = tmp / "empty.csv"
    empty.write_text("platform,seller_id,sku,quantity,price,notes\n")
    out = cli("ingest", "listings", str(empty), "--snapshot-date", "2024-06-28", root=root)
    carried = (root / "snapshots" / "listings" / "snapshot_date=2024-06-28").exists()
    return {"exit code": out.returncode, "yesterday carried forward as today": carried}


def p10_cli(tmp: Path, olist: Path) -> dict:
    def code(*args):
        out = subprocess.run([*CLI, *args], capture_output=True, text=True, env=ENV)
        return out.returncode, " ".join(out.stderr.split())[-160:]

    typo = tmp / "typo"
    target = tmp / "nonexistent" / "dir" / "x.csv"
    return {
        "snapshots nosuchtable": code("snapshots", "nosuchtable", "--data-root", str(olist))[0],
        "report --as-of 2030-01-01": code("report", "seller_concentration", "--as-of", "2030-01-01", "--data-root", str(olist))[0],
        "report ../../x": code("report", "../../x", "--data-root", str(olist))[0],
        "ingest olist /no/such/dir names": code("ingest", "olist", "/no/such/dir", "--data-root", str(tmp / "o"))[1][-60:],
        "forecast on a mistyped root leaves workbench.db": (code("forecast", "--data-root", str(typo)), (typo / "workbench.db").exists())[1],
        "procure --export into a missing folder creates it": (code("procure", "--export", str(target), "--data-root", str(olist)), (tmp / "nonexistent").exists())[1],
    }  # fmt: skip


def p11_smaller(tmp: Path) -> dict:
    root = tmp / "p11"
    ragged = tmp / "ragged.csv"
    ragged.write_text(
        "platform,seller_id,sku,quantity,price,notes\nebay,a,A,1,2.0,\nebay,a,B,1,2.0,,extra\n"
    )
    out = cli("ingest", "listings", str(ragged), "--snapshot-date", "2024-06-27", root=root)
    extra = tmp / "extra.csv"
    extra.write_text("platform,seller_id,sku,quantity,price,notes,Colour\nebay,a,A,1,2.0,,red\n" +
                     f"ebay,a,BIG,1,2.0,{'x' * 5_000_000},red\n" + "".join(f"ebay,a,G{i},1,2,,r\n" for i in range(40)))  # fmt: skip
    cli("ingest", "listings", str(extra), "--snapshot-date", "2024-06-27", root=root)
    with sqlite3.connect(root / "workbench.db") as con:
        cols = [r[1] for r in con.execute("PRAGMA table_info(job_runs)")]
        warned = (
            "warnings" in cols
            and con.execute(
                "SELECT count(*) FROM job_runs WHERE warnings LIKE '%Colour%'"
            ).fetchone()[0]
            > 0
        )
    big = "BIG" in set(snapshot(root, "listings", "2024-06-27")["sku"])
    return {
        "ragged row message names the row": "row 2" in " ".join(out.stderr.split()),
        "unrecognised header warned": bool(warned),
        "5 MB cell landed": big,
    }


def main() -> None:
    olist = Path(sys.argv[1]) if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        probes = [
            p1_two_writers,
            p2_numbers,
            p3_kill,
            p4_secrets,
            p6_audit,
            p7_migrations,
            p8_empty,
            p11_smaller,
        ]
        for probe in probes:
            print(json.dumps({"probe": probe.__name__, **probe(tmp)}, default=str), flush=True)
        if olist is not None:
            print(json.dumps({"probe": "p10_cli", **p10_cli(tmp, olist)}, default=str), flush=True)


if __name__ == "__main__":
    main()
