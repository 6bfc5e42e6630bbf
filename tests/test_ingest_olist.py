"""Ingestion of the real Olist export: counts, mapping, formats, idempotence, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from stockroom import store, workbench
from stockroom.config import bundled_olist_dir
from stockroom.db import connect
from stockroom.errors import InputError
from stockroom.ingest import olist
from stockroom_jobs.ingest import ingest_olist

RAW = bundled_olist_dir()


def raw(name: str) -> pl.DataFrame:
    path = RAW / name
    return (
        pl.read_parquet(path)
        if path.suffix == ".parquet"
        else pl.read_csv(path, infer_schema=False)
    )


def test_bundled_export_lands_every_row(olist_root):
    con = connect(olist_root)
    count = lambda t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: E731
    assert count("sellers") == raw("olist_sellers_dataset.csv").height == 3_095
    assert count("products") == raw("olist_products_dataset.csv").height == 32_951
    assert count("orders") == raw("order_items_sample.parquet").height == 26_109
    days = store.snapshot_dates(olist_root, "orders")
    assert (
        len(days)
        == con.execute("SELECT count(DISTINCT CAST(order_ts AS DATE)) FROM orders").fetchone()[0]
    )
    manifest = store.read_manifest(olist_root, "orders", days[0])
    assert {Path(s["path"]).name for s in manifest["sources"]} >= {
        "orders_sample.parquet",
        "order_items_sample.parquet",
        "olist_sellers_dataset.csv",
    }


def test_bom_crlf_translation_file_is_applied(olist_root):
    # the translation CSV starts with a UTF-8 BOM and uses CRLF; its first header must still match
    assert (RAW / "product_category_name_translation.csv").read_bytes()[:3] == b"\xef\xbb\xbf"
    con = connect(olist_root)
    rows = dict(
        con.execute(
            "SELECT category_source, category FROM products "
            "WHERE category_source IN ('beleza_saude', 'cama_mesa_banho') "
            "GROUP BY ALL"
        ).fetchall()
    )
    assert rows == {"beleza_saude": "health_beauty", "cama_mesa_banho": "bed_bath_table"}


def test_order_times_are_converted_from_sao_paulo_to_utc(olist_root):
    orders = raw("orders_sample.parquet").select("order_id", "order_purchase_timestamp")
    landed = connect(olist_root).execute("SELECT DISTINCT order_id, order_ts FROM orders").pl()
    joined = landed.join(orders, on="order_id").with_columns(
        offset=pl.col("order_ts").dt.replace_time_zone(None) - pl.col("order_purchase_timestamp")
    )
    june = joined.filter(pl.col("order_purchase_timestamp").dt.month() == 6)
    january_2017 = joined.filter(
        pl.col("order_purchase_timestamp").dt.strftime("%Y-%m") == "2017-01"
    )
    assert june["offset"].unique().to_list() == [timedelta(hours=3)]  # BRT, UTC-3
    assert january_2017["offset"].unique().to_list() == [timedelta(hours=2)]  # BRST, UTC-2


def test_rerun_is_idempotent(olist_root):
    run = ingest_olist(RAW, olist_root)
    assert all(set(c) == {"unchanged"} for c in run.statuses.values())
    assert run.rows_quarantined == 0


def test_parquet_and_csv_exports_agree(tmp_path, shared_olist):
    """The shared folder has the dimensions as Parquet; the bundle has the raw CSVs."""
    from_parquet = olist.read_export(shared_olist)
    from_csv = olist.read_export(RAW)
    for name in ("sellers", "products", "orders"):
        a = getattr(from_parquet, name).drop("_source_file", "_source_row").sort(pl.all())
        b = getattr(from_csv, name).drop("_source_file", "_source_row").sort(pl.all())
        assert a.equals(b), name


def test_kaggle_csv_names_with_bom_and_crlf(tmp_path, olist_copy):
    """The published Kaggle file names and quirks (BOM, CRLF) for orders and items."""
    for parquet, csv in [
        ("orders_sample.parquet", "olist_orders_dataset.csv"),
        ("order_items_sample.parquet", "olist_order_items_dataset.csv"),
    ]:
        frame = pl.read_parquet(olist_copy / parquet)
        text = frame.write_csv(datetime_format="%Y-%m-%d %H:%M:%S").replace("\n", "\r\n")
        (olist_copy / csv).write_bytes(b"\xef\xbb\xbf" + text.encode())
        (olist_copy / parquet).unlink()
    export = olist.read_export(olist_copy)
    expected = olist.read_export(RAW)
    assert export.orders.drop("_source_file").equals(expected.orders.drop("_source_file"))


# -- bad input: an error naming file, row and column; stored snapshots untouched ---------------


def fingerprint(root: Path) -> dict:
    return {
        p.relative_to(root).as_posix(): store.file_sha256(p)
        for p in sorted((root / "snapshots").rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def landed(tmp_path):
    root = tmp_path / "root"
    ingest_olist(RAW, root)
    return root, fingerprint(root)


def rewrite_csv(path: Path, row: int, column: str, value: str) -> None:
    frame = pl.read_csv(path, infer_schema=False)
    frame = frame.with_columns(
        pl.when(pl.int_range(1, pl.len() + 1) == row)
        .then(pl.lit(value))
        .otherwise(pl.col(column))
        .alias(column)
    )
    frame.write_csv(path)


def to_csv(folder: Path, parquet: str, csv: str) -> Path:
    pl.read_parquet(folder / parquet).write_csv(folder / csv, datetime_format="%Y-%m-%d %H:%M:%S")
    (folder / parquet).unlink()
    return folder / csv


def expect_error(
    folder: Path, root: Path, before: dict, *fragments: str, max_bad_share: float = 0.0
) -> InputError:
    with pytest.raises(InputError) as err:
        ingest_olist(folder, root, max_bad_share=max_bad_share)
    for fragment in fragments:
        assert fragment in str(err.value), (fragment, str(err.value))
    assert fingerprint(root) == before
    return err.value


def test_missing_file(landed, olist_copy):
    root, before = landed
    (olist_copy / "olist_sellers_dataset.csv").unlink()
    expect_error(olist_copy, root, before, "olist_sellers_dataset.csv", "file not found")


def test_wrong_column(landed, olist_copy):
    root, before = landed
    path = olist_copy / "olist_products_dataset.csv"
    path.write_text(
        path.read_text(encoding="utf-8-sig").replace("product_category_name", "categoria", 1)
    )
    err = expect_error(
        olist_copy,
        root,
        before,
        "olist_products_dataset.csv",
        "column 'product_category_name'",
        "missing column",
    )
    assert err.problems[0].row is None


def test_unparseable_date(landed, olist_copy):
    root, before = landed
    path = to_csv(olist_copy, "orders_sample.parquet", "olist_orders_dataset.csv")
    rewrite_csv(path, 17, "order_purchase_timestamp", "2017-13-45 25:61:00")
    expect_error(
        olist_copy,
        root,
        before,
        "olist_orders_dataset.csv",
        "row 17",
        "column 'order_purchase_timestamp'",
        "2017-13-45 25:61:00",
    )


def test_negative_price(landed, olist_copy):
    root, before = landed
    path = to_csv(olist_copy, "order_items_sample.parquet", "olist_order_items_dataset.csv")
    rewrite_csv(path, 42, "price", "-12.50")
    err = expect_error(
        olist_copy,
        root,
        before,
        "olist_order_items_dataset.csv",
        "row 42",
        "column 'price'",
        "-12.5",
        "nothing landed",
    )
    assert len(err.problems) == 1


def test_negative_price_is_quarantined_and_the_rest_lands(landed, olist_copy):
    root, _ = landed
    path = to_csv(olist_copy, "order_items_sample.parquet", "olist_order_items_dataset.csv")
    rewrite_csv(path, 42, "price", "-12.50")
    bad_order = pl.read_csv(path, infer_schema=False)["order_id"][41]
    run = ingest_olist(olist_copy, root)  # default limit: 5 % bad rows
    assert run.rows_quarantined == 1
    assert run.rows_landed == run.rows_read - 1
    bad = workbench.quarantined(workbench.engine(root), run.run_id)
    assert bad.select("source_file", "source_row", "column", "value").row(0) == (
        "olist_order_items_dataset.csv",
        42,
        "price",
        "-12.5",
    )
    assert "greater_than_or_equal_to" in bad["reason"][0]
    assert json.loads(bad["record"][0])["order_id"] == bad_order
    landed_rows = connect(root).execute("SELECT count(*) FROM orders").fetchone()[0]
    assert landed_rows == pl.read_csv(path, infer_schema=False).height - 1
    runs = workbench.runs(workbench.engine(root), job="ingest-olist")
    assert runs["status"][0] == "succeeded" and runs["rows_quarantined"][0] == 1


def test_unparseable_number(landed, olist_copy):
    root, before = landed
    path = to_csv(olist_copy, "order_items_sample.parquet", "olist_order_items_dataset.csv")
    rewrite_csv(path, 5, "freight_value", "12,7O")
    expect_error(olist_copy, root, before, "row 5", "column 'freight_value'", "12,7O")


def test_cli_reports_one_line_and_fails(landed, olist_copy):
    root, before = landed
    path = to_csv(olist_copy, "order_items_sample.parquet", "olist_order_items_dataset.csv")
    rewrite_csv(path, 3, "price", "-1")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "stockroom_jobs.cli",
            "ingest",
            "olist",
            str(olist_copy),
            "--data-root",
            str(root),
            "--max-bad-share",
            "0",
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert proc.returncode == 1
    errors = [line for line in proc.stderr.splitlines() if line.startswith("stockroom: error:")]
    assert len(errors) == 1
    assert "olist_order_items_dataset.csv, row 3, column 'price'" in errors[0]
    assert "Traceback" not in proc.stderr
    assert fingerprint(root) == before
