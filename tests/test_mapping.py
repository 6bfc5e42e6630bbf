"""Mapping: the migration from an empty database, seller normalisation, SKU tiers 1-2 against
the real card catalog, the audit trail."""

from __future__ import annotations

import json
import shutil

import duckdb
import numpy as np
import polars as pl
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from stockroom import cards, workbench
from stockroom.mapping import repo, sellers, skus
from stockroom.sim.marketplace import SimConfig, simulate


@pytest.fixture(scope="module")
def variants():
    return cards.variants()


@pytest.fixture(scope="module")
def sim():
    return simulate(SimConfig(listings=20_000, sellers=300, days=1))


def test_migrations_from_an_empty_database_up_down_up(tmp_path):
    eng = sa.create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    cfg = Config()
    cfg.set_main_option("script_location", str(workbench.MIGRATIONS))
    with eng.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        assert {
            "sellers",
            "seller_aliases",
            "catalog",
            "sku_mappings",
            "audit_log",
            "job_runs",
        } <= set(sa.inspect(conn).get_table_names())
        command.downgrade(cfg, "0001")
        assert "audit_log" not in sa.inspect(conn).get_table_names()
        command.upgrade(cfg, "head")
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    assert version == "0009"


@pytest.mark.parametrize(
    "spellings",
    [
        ["Pallet TCG (Store)", "PALLET TCG LLC", "PalletTcg", "pallettcg_55", "  pallet-tcg "],
        ["Café Cards™", "CAFE CARDS ✦", "cafecards"],
    ],
)
def test_seller_name_normal_form(spellings):
    forms = pl.DataFrame({"n": spellings}).select(sellers.norm_expr(pl.col("n")))["n"]
    assert forms.n_unique() == 1 and forms[0] in ("pallettcg", "cafecards")


def test_sellers_resolve_to_the_simulators_truth(sim):
    aliases, suggestions = sellers.resolve(sim.sellers)
    joined = aliases.join(
        sim.seller_truth.select("platform", "seller_id", pl.col("seller_key").alias("truth")),
        on=["platform", "seller_id"],
    )
    assert joined.height == sim.sellers.height  # coverage 100 %
    # pure (no Seller mixes two true sellers) and complete (no true seller split)
    assert joined.group_by("seller_key").agg(pl.col("truth").n_unique())["truth"].max() == 1
    assert joined.group_by("truth").agg(pl.col("seller_key").n_unique())["seller_key"].max() == 1
    assert (aliases["status"] == "auto").all()
    assert suggestions.filter(pl.col("score") < sellers.SUGGEST_SCORE).height == 0


def test_short_names_are_not_merged_across_platforms():
    accounts = pl.DataFrame(
        {"platform": ["ebay", "blokpax"], "seller_id": ["abc", "9"], "seller_name": ["ABC", "abc"]}
    )
    aliases, _ = sellers.resolve(accounts)
    assert aliases["seller_key"].n_unique() == 2


def test_structured_skus_map_exactly_and_explain_errors(variants, sim):
    listings = next(sim.days()).listings.filter(pl.col("platform") == "shootstrayt")
    external = listings.select("platform", pl.col("sku").alias("external_sku"), "listing_id")
    out = skus.parse_structured(external, variants)
    assert (out["status"] == "auto").all()
    truth = sim.listing_truth.select("platform", "listing_id", "product_sku")
    check = external.join(out, on=["platform", "external_sku"]).join(
        truth, on=["platform", "listing_id"], suffix="_true"
    )
    assert (check["product_sku"] == check["product_sku_true"]).all()  # precision 1.0

    bad = pl.DataFrame(
        {
            "platform": "shootstrayt",
            "external_sku": [
                "PIKACHU-BASE9-58-COMMON-NORMAL",
                "PIKACHU-BASE1-999-COMMON-NORMAL",
                "RAICHU-BASE1-58-COMMON-NORMAL",
                "PIKACHU-BASE1-58-RARE-NORMAL",
                "PIKACHU-BASE1-58-COMMON-GOLDFOIL",
                "PIKACHU-BASE1-58",
            ],
        }
    )
    got = dict(skus.parse_structured(bad, variants).select("external_sku", "reason").iter_rows())
    assert got["PIKACHU-BASE9-58-COMMON-NORMAL"] == "unknown set 'BASE9'"
    assert got["PIKACHU-BASE1-999-COMMON-NORMAL"] == "set 'BASE1' has no card number '999'"
    assert got["RAICHU-BASE1-58-COMMON-NORMAL"] == "card base1 #58 is PIKACHU, the SKU says RAICHU"
    assert got["PIKACHU-BASE1-58-RARE-NORMAL"] == "card base1 #58 is COMMON, the SKU says RARE"
    assert got["PIKACHU-BASE1-58-COMMON-GOLDFOIL"].startswith(
        "treatment 'GOLDFOIL' is not priced for card base1 #58 (known: 1STEDITION"
    )
    assert got["PIKACHU-BASE1-58"].startswith("expected 5 parts")


def test_exact_identifiers(variants, sim):
    blokpax = (
        next(sim.days())
        .listings.filter(pl.col("platform") == "blokpax")
        .select("platform", pl.col("sku").alias("external_sku"))
    )
    out = skus.exact(blokpax, variants)
    assert out.height == blokpax["external_sku"].n_unique()
    assert (out["method"] == "marketplace_id").all()
    catalog = pl.DataFrame(
        {
            "sku": ["nike-aj1", "cereal"],
            "gtin": [None, "036000291452"],
            "style_code": ["CW2288-111", None],
        }
    )
    external = pl.DataFrame(
        {
            "platform": "stockx",
            "external_sku": ["cw2288-111", "036000291452", "036000291453", "CW2288-112"],
        }
    )
    got = dict(skus.exact(external, catalog).select("external_sku", "product_sku").iter_rows())
    assert got == {"cw2288-111": "nike-aj1", "036000291452": "cereal"}  # bad check digit: no


def test_audit_trail_records_every_change_and_humans_win(tmp_path):
    eng = workbench.engine(tmp_path)
    added = repo.add_products(
        eng,
        pl.DataFrame({"sku": ["p1", "p2", "p9"], "kind": "card"}),
        actor="job",
        reason="catalog load",
    )
    assert added == 3
    first = pl.DataFrame(
        {
            "platform": "shootstrayt",
            "external_sku": ["A", "B"],
            "product_sku": ["p1", None],
            "method": "structured",
            "confidence": [1.0, 0.0],
            "status": ["auto", "review"],
            "reason": [None, "unknown set 'X'"],
        }
    )
    assert repo.save_mappings(eng, first, actor="job", reason="tier 2") == {
        "inserted": 2,
        "updated": 0,
        "unchanged": 0,
        "kept_human": 0,
    }
    assert repo.save_mappings(eng, first, actor="job", reason="rerun")["unchanged"] == 2
    repo.decide(
        eng,
        "shootstrayt",
        "B",
        action="reassign",
        product_sku="p2",
        actor="ana",
        reason="checked the card",
    )
    changed = first.with_columns(pl.lit("p9").alias("product_sku"))
    counts = repo.save_mappings(eng, changed, actor="job", reason="tier 2 again")
    assert counts == {"inserted": 0, "updated": 1, "unchanged": 0, "kept_human": 1}
    current = dict(repo.mappings(eng).select("external_sku", "product_sku").iter_rows())
    assert current == {"A": "p9", "B": "p2"}  # ana's decision stands
    log = repo.history(eng, "sku_mapping", "shootstrayt/B")
    assert log["actor"].to_list() == ["job", "ana"]
    assert json.loads(log["old"][1])["status"] == "review"
    assert json.loads(log["new"][1])["product_sku"] == "p2"
    with pytest.raises(sa.exc.IntegrityError, match="append-only"), eng.begin() as conn:
        conn.execute(sa.text("DELETE FROM audit_log"))
    with pytest.raises(ValueError):
        repo.decide(eng, "shootstrayt", "A", action="delete", actor="ana", reason="-")
    with pytest.raises(sa.exc.IntegrityError):  # no mapping to a ghost product
        repo.decide(
            eng,
            "shootstrayt",
            "A",
            action="reassign",
            product_sku="nope",
            actor="ana",
            reason="typo",
        )
    assert repo.history(eng, "product")["entity_key"].to_list() == ["p1", "p2", "p9"]


# -- tier 3: learned matching and its benchmark --------------------------------------------------

from stockroom.errors import InputError  # noqa: E402
from stockroom.mapping import matching  # noqa: E402
from stockroom_bench.mapping import run_mapping_bench  # noqa: E402
from tests.conftest import SHARED_DATA  # noqa: E402

EM = SHARED_DATA / "entity_matching"


def test_published_abt_buy_meets_the_goals():
    folder, leipzig = EM / "magellan" / "abt_buy", EM / "leipzig" / "abt_buy"
    if not folder.is_dir() or not leipzig.is_dir():
        pytest.skip(f"shared data not present at {EM}")
    result = run_mapping_bench(folder, leipzig, seeds=1)
    assert result["f1"]["mean"] >= 80  # Magellan 43.6, DeepMatcher 62.8
    assert result["blocking"]["recall"] >= 95 and result["blocking"]["reduction_ratio"] >= 98


def test_blocking_takes_the_left_table_from_the_gold_ids_not_the_file_names(tmp_path):
    """Leipzig abt_buy with abt.csv renamed to sort second: the gold file's D1 ids are Abt's,
    so Abt stays the left table and recall is what it is with the published names."""
    folder, leipzig = EM / "magellan" / "abt_buy", EM / "leipzig" / "abt_buy"
    if not folder.is_dir() or not leipzig.is_dir():
        pytest.skip(f"shared data not present at {EM}")
    renamed = tmp_path / "abt_buy"
    renamed.mkdir()
    shutil.copy(leipzig / "abt.csv", renamed / "z_abt.csv")
    shutil.copy(leipzig / "buy.csv", renamed / "buy.csv")
    shutil.copy(leipzig / "gt.csv", renamed / "gt.csv")
    result = run_mapping_bench(folder, renamed, seeds=1)
    assert result["blocking"]["tables"] == ["z_abt.csv", "buy.csv"]
    assert result["blocking"]["recall"] >= 95


def write_magellan(folder, sim, n_products=300, seed=0):
    """A DeepMatcher-format folder from the simulator: eBay titles vs ShootStrayt titles of the
    same card variant are matches (labels from the simulator's truth)."""
    rng = np.random.default_rng(seed)
    listings = next(sim.days()).listings.join(
        sim.listing_truth.select("platform", "listing_id", "product_sku"),
        on=["platform", "listing_id"],
    )
    by_platform = {
        p: listings.filter(pl.col("platform") == p).unique("product_sku")
        for p in ("ebay", "shootstrayt")
    }
    common = sorted(
        set(by_platform["ebay"]["product_sku"]) & set(by_platform["shootstrayt"]["product_sku"])
    )[:n_products]
    a = by_platform["ebay"].filter(pl.col("product_sku").is_in(common)).sort("product_sku")
    b = by_platform["shootstrayt"].filter(pl.col("product_sku").is_in(common)).sort("product_sku")
    folder.mkdir()
    a.select(pl.int_range(pl.len()).alias("id"), "title", "price").write_csv(folder / "tableA.csv")
    b.select(pl.int_range(pl.len()).alias("id"), "title", "price").write_csv(folder / "tableB.csv")
    pairs = [(i, i, 1) for i in range(len(common))] + [
        (i, int(j), 0)
        for i in range(len(common))
        for j in rng.choice(len(common), 3, replace=False)
        if j != i
    ]
    frame = pl.DataFrame(pairs, schema=["ltable_id", "rtable_id", "label"], orient="row")
    frame = frame.sample(fraction=1.0, shuffle=True, seed=seed)
    n = frame.height
    frame[: n * 3 // 5].write_csv(folder / "train.csv")
    frame[n * 3 // 5 : n * 4 // 5].write_csv(folder / "valid.csv")
    frame[n * 4 // 5 :].write_csv(folder / "test.csv")


def test_bench_runs_on_any_folder_of_that_shape(tmp_path, sim):
    write_magellan(tmp_path / "cards", sim)
    result = run_mapping_bench(tmp_path / "cards", seeds=2)
    assert result["pairs"]["test"] > 100
    assert result["f1"]["mean"] > 90  # titles of one card, two title styles
    assert "blocking" not in result
    (tmp_path / "cards" / "valid.csv").unlink()
    with pytest.raises(InputError, match="valid.csv"):
        run_mapping_bench(tmp_path / "cards")


def test_blocking_keeps_the_true_partner_in_the_top_k():
    left = matching.Table(
        ["1", "2"],
        ["sony turntable pslx350h", "bose acoustimass 5 am53bk"],
        ["", ""],
        np.array([np.nan, np.nan]),
    )
    right = matching.Table(
        ["a", "b", "c"],
        ["bose am53bk acoustimass", "sony ps-lx350h", "apple ipod"],
        ["", "", ""],
        np.array([np.nan] * 3),
    )
    cand = matching.block(left, right, k=1)
    assert sorted(zip(cand["left"], cand["right"], strict=True)) == [(0, 1), (1, 0)]
    assert matching.f1(np.array([1, 0, 1]), np.array([True, True, False])) == 0.5
    assert (
        matching.precision_threshold(np.array([0.9, 0.8, 0.2]), np.array([1, 0, 0]), 0.98) == 0.81
    )


def test_sellers_are_saved_with_stable_keys_and_audited(tmp_path, sim):
    eng = workbench.engine(tmp_path)
    aliases, suggestions = sellers.resolve(sim.sellers)
    counts = repo.save_sellers(eng, aliases, suggestions, actor="job", reason="backfill")
    assert counts["sellers_new"] == aliases["seller_key"].n_unique()
    assert counts["aliases_new"] == sim.sellers.height
    stored = repo.seller_aliases_frame(eng)
    first_keys = dict(
        zip(
            zip(stored["platform"], stored["seller_id"], strict=True),
            stored["seller_key"],
            strict=True,
        )
    )
    again = repo.save_sellers(eng, *sellers.resolve(sim.sellers), actor="job", reason="rerun")
    assert again == {"sellers_new": 0, "aliases_new": 0, "aliases_changed": 0, "links_new": 0}
    stored = repo.seller_aliases_frame(eng)
    assert (
        dict(
            zip(
                zip(stored["platform"], stored["seller_id"], strict=True),
                stored["seller_key"],
                strict=True,
            )
        )
        == first_keys
    )
    log = repo.history(eng, "seller_alias")
    assert log.height == sim.sellers.height and set(log["actor"]) == {"job"}


# -- cross-listings and the mapping job -----------------------------------------------------------


def test_cross_listing_propagation_is_exact(variants, sim):
    listings = next(sim.days()).listings
    aliases, _ = sellers.resolve(sim.sellers)
    keyed = listings.join(
        aliases.select("platform", "seller_id", "seller_key"), on=["platform", "seller_id"]
    )
    external = listings.select("platform", pl.col("sku").alias("external_sku")).unique()
    mapped = pl.concat(
        [
            skus.exact(external, variants),
            skus.parse_structured(external.filter(pl.col("platform") == "shootstrayt"), variants),
        ]
    )
    found = skus.cross_listed(keyed, mapped.filter(pl.col("status") == "auto"), variants)
    truth = (
        sim.listing_truth.filter(pl.col("platform") == "ebay")
        .select(pl.col("sku").alias("external_sku"), pl.col("product_sku").alias("true_sku"))
        .unique()
    )
    checked = found.join(truth, on="external_sku")
    assert checked.height == found.height > 0.4 * truth.height
    assert (checked["product_sku"] == checked["true_sku"]).all()


def test_mapping_job_on_the_simulator(tmp_path):
    from stockroom_jobs.ingest import ingest_simulation
    from stockroom_jobs.mapping import run_mapping

    ingest_simulation(tmp_path, SimConfig(listings=8_000, sellers=80, days=1, seed=3))
    report = run_mapping(tmp_path)
    assert report.seller_coverage == 1.0
    assert report.sku_auto_share >= 0.90 and report.auto_precision >= 0.98  # the goal
    assert {"marketplace_id", "structured", "cross_listing"} <= set(report.by_method)
    eng = workbench.engine(tmp_path)
    queue = repo.mappings(eng).filter(pl.col("status") == "review")
    assert queue.height > 0 and queue["reason"].null_count() == 0
    one = queue.row(0, named=True)
    repo.decide(
        eng,
        one["platform"],
        one["external_sku"],
        action="reject",
        actor="ana",
        reason="not this card",
    )
    again = run_mapping(tmp_path)
    assert again.counts["inserted"] == 0 and again.counts["kept_human"] >= 1
    kept = repo.mappings(eng).filter(pl.col("external_sku") == one["external_sku"])
    assert kept["status"].to_list() == ["rejected"]
    assert workbench.runs(eng, job="map")["status"].to_list() == ["succeeded", "succeeded"]
    assert report.order_seller_coverage == 1.0  # orders backfilled too


def test_a_corrected_mapping_corrects_history_at_query_time(tmp_path):
    from stockroom import store
    from stockroom.db import connect
    from stockroom.mapping import views
    from stockroom_jobs.ingest import ingest_simulation
    from stockroom_jobs.mapping import run_mapping

    ingest_simulation(tmp_path, SimConfig(listings=3_000, sellers=30, days=3, seed=4))
    run_mapping(tmp_path)
    eng = workbench.engine(tmp_path)
    before = {p: store.file_sha256(p) for p in (tmp_path / "snapshots").rglob("*.parquet")}
    sku = (
        repo.mappings(eng)
        .filter((pl.col("status") == "auto") & (pl.col("platform") == "ebay"))
        .row(0, named=True)
    )
    query = (
        "SELECT DISTINCT product_sku FROM listings_history h JOIN sku_mappings m "
        "ON m.platform = h.platform AND m.external_sku = h.sku "
        f"WHERE h.sku = '{sku['external_sku']}'"
    )
    con = views.register(connect(tmp_path), eng)
    assert con.execute(query).fetchall() == [(sku["product_sku"],)]
    other = (
        repo.mappings(eng)
        .filter(pl.col("product_sku") != sku["product_sku"])["product_sku"]
        .drop_nulls()[0]
    )
    repo.decide(
        eng,
        "ebay",
        sku["external_sku"],
        action="reassign",
        product_sku=other,
        actor="ana",
        reason="wrong variant",
    )
    con = views.register(connect(tmp_path), eng)
    assert con.execute(query).fetchall() == [(other,)]  # every day, at once
    mapped = con.execute(
        "SELECT DISTINCT product_sku FROM listings_mapped WHERE sku = ?", [sku["external_sku"]]
    ).fetchall()
    assert mapped == [(other,)]
    after = {p: store.file_sha256(p) for p in (tmp_path / "snapshots").rglob("*.parquet")}
    assert after == before  # no snapshot rewritten


def test_review_queue_bulk_accept_and_create_product(tmp_path):
    from stockroom.mapping import review

    eng = workbench.engine(tmp_path)
    repo.add_products(
        eng,
        pl.DataFrame({"sku": ["p1", "p2"], "title": ["Pikachu", "Mew"]}),
        actor="job",
        reason="load",
    )
    repo.save_mappings(
        eng,
        pl.DataFrame(
            {
                "platform": "ebay",
                "external_sku": ["cheap", "dear", "sure", "none"],
                "product_sku": ["p1", "p2", "p2", None],
                "method": "learned",
                "confidence": [0.5, 0.4, 0.95, 0.0],
                "status": "review",
                "reason": "best candidate below threshold",
            }
        ),
        actor="job",
        reason="tier 3",
    )
    listings = pl.DataFrame(
        {
            "platform": "ebay",
            "sku": ["cheap", "dear", "sure", "none", "cheap"],
            "title": ["a", "b", "c", "d", "a"],
            "price": [1.0, 500.0, 2.0, 3.0, 9_999.0],
            "quantity": [1, 2, 1, 1, 1],
            "status": ["active"] * 4 + ["ended"],  # an ended listing stakes nothing
        }
    )
    catalog = pl.DataFrame({"sku": ["p1", "p2"], "title": ["Pikachu", "Mew"]})
    con = duckdb.connect()
    con.register("listings", listings.to_arrow())
    q = review.queue(eng, review.stakes(con), catalog)
    assert q["external_sku"].to_list() == ["dear", "none", "sure", "cheap"]
    assert q["at_stake"].to_list() == [1000.0, 3.0, 2.0, 1.0]
    assert q.filter(pl.col("external_sku") == "cheap")["listings"].item() == 2
    assert review.bulk_accept(eng, 0.9, actor="ana") == 1  # only "sure"
    review.create_product(eng, "ebay", "none", sku="p3", title="Mewtwo promo", actor="ana")
    status = dict(repo.mappings(eng).select("external_sku", "status").iter_rows())
    assert status == {"cheap": "review", "dear": "review", "sure": "confirmed", "none": "confirmed"}
    assert repo.history(eng, "product")["entity_key"].to_list() == ["p1", "p2", "p3"]
