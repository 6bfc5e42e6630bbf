"""`stockroom lake` (snapshots on object storage) and `stockroom cluster` (many companies'
mornings on Dask distributed): Stockroom beyond one machine."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from stockroom import config
from stockroom_jobs.cli.common import DataRootOption, console, parse_date, progress_bar

lake_app = typer.Typer(
    help="Snapshots on object storage (an `s3://` data root), committed through DuckLake: "
    "`--data-root s3://bucket/prefix` on any command works on a local working copy, pulled "
    "from the lake first and published after a command that changed it.",
    no_args_is_help=True,
    rich_markup_mode="markdown",
)

VersionOption = Annotated[
    int | None,
    typer.Option("--version", help="A lake version (`stockroom lake versions`). Default: latest."),
]


def _copy(data_root) -> object:
    from stockroom import lake

    root = config.data_root(data_root)
    if lake.url_of(root) is None:
        raise typer.BadParameter(
            f"{root} is a local data root; give --data-root s3://bucket/prefix",
            param_hint="--data-root",
        )
    return root


@lake_app.command("status")
def status(data_root: DataRootOption = None) -> None:
    """The lake of this data root: its URL, catalog, the version pulled and what the working
    copy changed since (published by the next command that succeeds, or `stockroom lake
    publish`)."""
    from stockroom import lake

    root = _copy(data_root)
    version, base = lake._baseline(root)
    local = lake._local_days(root)
    pending = sorted(k for k, sha in local.items() if base.get(k) != sha)
    target, schema = lake.catalog(root)
    console.print(f"lake      {lake.url_of(root)}", markup=False)
    console.print(f"catalog   {lake.redacted(target)}" + (f" (schema {schema})" if schema else ""))
    console.print(f"copy      {root}", markup=False)
    console.print(f"version   {version} pulled; {len(pending)} day(s) changed since", markup=False)


@lake_app.command("pull")
def pull(data_root: DataRootOption = None, version: VersionOption = None) -> None:
    """Bring the lake's days (at --version) into the working copy."""
    from stockroom import lake

    result = lake.pull(_copy(data_root), version=version)
    console.print(f"pulled version {result.version}: {len(result.days)} day(s) written")


@lake_app.command("publish")
def publish(data_root: DataRootOption = None) -> None:
    """Commit the days the working copy changed to the lake, in one commit."""
    from stockroom import lake

    result = lake.publish(_copy(data_root), message="stockroom lake publish")
    if result.version is None:
        console.print("nothing changed since the last pull: nothing committed")
    else:
        console.print(
            f"{len(result.days)} day(s) committed as version {result.version} "
            f"({result.attempts} attempt(s))"
        )


@lake_app.command("versions")
def versions(data_root: DataRootOption = None) -> None:
    """The lake's commits: version, when, by which command, days and tables changed."""
    from stockroom import lake

    frame = lake.versions(_copy(data_root))
    table = Table("version", "committed (UTC)", "by", "days", "tables")
    for row in frame.iter_rows(named=True):
        table.add_row(
            str(row["version"]),
            f"{row['committed_at']:%Y-%m-%d %H:%M:%S}",
            row["message"] or "(catalog created)",
            str(row["days"]),
            row["tables"],
        )
    console.print(table)


@lake_app.command("files")
def files(
    table: Annotated[str, typer.Argument(help="A snapshot table, e.g. orders.")],
    data_root: DataRootOption = None,
    version: VersionOption = None,
) -> None:
    """The Parquet files that make up TABLE (hive-partitioned by snapshot_date), one per line:
    what Spark, Dask, polars or DuckDB read."""
    from stockroom import lake

    for path in lake.files(_copy(data_root), table, version=version):
        print(path)


@lake_app.command("tidy")
def tidy(data_root: DataRootOption = None) -> None:
    """Delete data files no version references (left by a writer killed before its commit)."""
    from stockroom import lake

    console.print(f"{lake.tidy(_copy(data_root))} unreferenced file(s) deleted")


def cluster_command(
    roots: Annotated[
        list[str] | None,
        typer.Argument(
            help="Data roots (paths or s3:// URLs). Default: every company of the install."
        ),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(
            "--scheduler",
            envvar="STOCKROOM_DASK_SCHEDULER",
            show_envvar=True,
            help="`local` (a local cluster of --workers processes) or a Dask scheduler "
            "address (tcp://host:8786). Default: one after the other in this process.",
        ),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Workers of a `local` cluster.")] = 2,
    retries: Annotated[int, typer.Option(min=0, help="Retries of a failed morning.")] = 2,
    day: Annotated[str | None, typer.Option(help="Day to run, YYYY-MM-DD (default today).")] = None,
    data_root: DataRootOption = None,
) -> None:
    """Run many companies' mornings (sync -> forecast -> plan -> reconcile -> reports) as
    tasks on Dask distributed, with retries; one company's failure never stops the others."""
    from datetime import UTC, datetime

    from stockroom_jobs.cluster import run_mornings

    if not roots:
        from stockroom import tenancy

        roots = [str(r) for r in tenancy.company_roots(config.data_root(data_root))]
    if not roots:
        raise typer.BadParameter("no data roots given and the install has no companies")
    when = parse_date(day, "--day") or datetime.now(UTC).date()
    started = time.perf_counter()
    with progress_bar() as bar:
        task = bar.add_task(f"mornings of {when}", total=len(roots))

        def done(result) -> None:
            bar.advance(task)
            if result.status != "succeeded":
                bar.console.print(f"FAILED {result.root}: {result.error}", markup=False)

        result = run_mornings(
            roots, when, scheduler=scheduler, workers=workers, retries=retries, on_done=done
        )
    peak = max(result.peak_rss_mib.values(), default=0.0)
    console.print(
        f"{len(roots) - len(result.failed)} of {len(roots)} mornings succeeded on "
        f"{result.scheduler} in {time.perf_counter() - started:.1f} s; tasks retried "
        f"{result.retried}; peak memory per worker {peak:.0f} MiB",
        markup=False,
    )
    if result.failed:
        raise typer.Exit(1)
