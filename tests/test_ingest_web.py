"""Scraped storefront and HTTP JSON APIs against a real local server (127.0.0.1) built from the
real card catalog, with injected faults."""

from __future__ import annotations

import logging

import polars as pl
import pytest

from stockroom import cards, config, store, workbench
from stockroom.ingest import api, storefront
from stockroom.ingest.http import Disallowed, Fetcher, FetchError
from stockroom.sim.marketplace import SimConfig, simulate
from stockroom.sim.server import MarketServer, load_card_json
from stockroom_jobs.ingest import ingest_browse_api, ingest_card_api, ingest_storefront
from tests.test_ingest_files import DAY, fingerprint

TOKEN = "tok-9f8e7d6c5b4a"


@pytest.fixture(scope="module")
def day_listings():
    return next(simulate(SimConfig(listings=3_000, sellers=30, days=1)).days()).listings


@pytest.fixture
def server(day_listings):
    srv = MarketServer(
        day_listings, load_card_json(cards.BUNDLED / "api_json" / "cards"), token=TOKEN, slow_s=1.5
    )
    with srv:
        yield srv


def quick(**kw) -> dict:
    return dict(min_interval=0.01, timeout=0.8, backoff=0.05) | kw


def shop_truth(listings: pl.DataFrame, seller: str) -> pl.DataFrame:
    return listings.filter(
        (pl.col("platform") == "shootstrayt")
        & (pl.col("seller_id") == seller)
        & (pl.col("status") == "active")
    )


def test_scrape_follows_pagination_and_matches_the_shop(server, day_listings, tmp_path):
    shop = server.shops()[0]
    run = ingest_storefront(
        [f"{server.base_url}/shop/{shop}"], tmp_path, snapshot_date=DAY, **quick()
    )
    got = store.read_snapshot(tmp_path, "listings", DAY).sort("listing_id")
    want = shop_truth(day_listings, shop).sort("listing_id")
    assert got.height == want.height > 48  # more than one page
    assert got["sku"].to_list() == want["sku"].to_list()  # {PRODUCT}-{SET}-...
    assert got["price"].to_list() == pytest.approx(want["price"].to_list())
    assert got["quantity"].to_list() == want["quantity"].to_list()
    assert run.rows_quarantined == 0
    assert got["sku"].str.count_matches("-").min() >= 4


def test_faults_are_retried_with_backoff(server, day_listings, tmp_path):
    shop = server.shops()[0]
    page2 = f"/shop/{shop}?page=2"
    server.inject(page2, "429", "500", "slow", "truncate", "drop")
    run = ingest_storefront(
        [f"{server.base_url}/shop/{shop}"], tmp_path, snapshot_date=DAY, **quick(attempts=6)
    )
    hits = [h for h in server.hits if h.path == page2]
    # 429, 500, (the slow answer arrives after the client's timeout), truncated 200, dropped
    # connection, then the good page
    assert [h.status for h in hits][:2] == [429, 500] and hits[-1].status == 200
    assert 0 in [h.status for h in hits]
    assert run.rows_quarantined == 0
    gap_after_429 = hits[1].at - hits[0].at
    assert gap_after_429 >= 1.0  # Retry-After: 1 honoured
    assert (
        store.read_snapshot(tmp_path, "listings", DAY).height
        == shop_truth(day_listings, shop).height
    )


def test_persistent_errors_give_up_and_land_nothing(server, tmp_path):
    shop = server.shops()[0]
    server.inject(f"/shop/{shop}?page=2", *["503"] * 3)
    with pytest.raises(FetchError, match="HTTP 503.*gave up after 3 attempts"):
        ingest_storefront([f"{server.base_url}/shop/{shop}"], tmp_path, **quick(attempts=3))
    assert fingerprint(tmp_path) == {}
    assert workbench.runs(workbench.engine(tmp_path))["status"].to_list() == ["failed"]


def test_changed_layout_stops_cleanly_and_keeps_the_html(server, tmp_path):
    shop = server.shops()[0]  # the largest: several pages
    ingest_storefront([f"{server.base_url}/shop/{shop}"], tmp_path, snapshot_date=DAY, **quick())
    before = fingerprint(tmp_path)
    server.inject(f"/shop/{shop}?page=2", "layout")
    with pytest.raises(storefront.LayoutChanged) as err:
        ingest_storefront(
            [f"{server.base_url}/shop/{shop}"], tmp_path, snapshot_date=DAY, **quick()
        )
    assert "no 'ul.listing-grid'" in str(err.value) and "page=2" in str(err.value)
    assert err.value.sample.is_file() and "product-tile" in err.value.sample.read_text()
    assert fingerprint(tmp_path) == before  # page 1 did not land either


def test_robots_txt_and_rate_limit(server):
    with Fetcher(min_interval=0.2) as fetcher:
        with pytest.raises(Disallowed):
            fetcher.get(f"{server.base_url}/private/prices")
        for page in (1, 2, 3):
            fetcher.get(f"{server.base_url}/shop/{server.shops()[0]}", params={"page": page})
    assert not any(h.path.startswith("/private") for h in server.hits)
    starts = [h.at for h in server.hits if h.path.startswith("/shop/")]
    assert min(b - a for a, b in zip(starts, starts[1:], strict=False)) >= 0.18


def test_card_api_paginates_real_json_with_token_from_env(server, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("STOCKROOM_CARDS_TOKEN", TOKEN)
    with Fetcher(min_interval=0, headers={"X-Api-Key": TOKEN}) as fetcher:
        products, pages = api.card_api_products(server.base_url, fetcher, page_size=50)
    assert products.height == len(server.cards) == 102 + 207 and pages == 7
    run = ingest_card_api(server.base_url, tmp_path, snapshot_date=DAY)
    landed = store.read_snapshot(tmp_path, "products", DAY)
    assert landed.height == len(server.cards)
    assert set(landed.filter(pl.col("sku") == "base1-4")["title"]) == {"Charizard 4"}
    assert run.rows_quarantined == 0
    # the token is nowhere: not in Parquet, manifests, the database, or logs
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    assert TOKEN not in caplog.text


def test_wrong_token_fails_without_leaking_it(server, tmp_path):
    wrong = "not-the-token-123"
    with pytest.raises(FetchError, match="HTTP 401"):
        ingest_card_api(server.base_url, tmp_path, token=wrong)
    runs = workbench.runs(workbench.engine(tmp_path))
    assert runs["status"][0] == "failed" and wrong not in runs["error"][0]


def test_token_from_secrets_toml(tmp_path, monkeypatch):
    monkeypatch.delenv("STOCKROOM_EBAY_TOKEN", raising=False)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[sources.ebay]\ntoken = "from-secrets"\n')
    assert config.source_token("ebay", secrets) == "from-secrets"
    monkeypatch.setenv("STOCKROOM_EBAY_TOKEN", "from-env")
    assert config.source_token("ebay", secrets) == "from-env"
    assert config.source_token("nothing", tmp_path / "absent.toml") is None


def test_browse_api_lands_every_item_with_seller_username(server, day_listings, tmp_path):
    run = ingest_browse_api(server.base_url, tmp_path, token=TOKEN, snapshot_date=DAY)
    landed = store.read_snapshot(tmp_path, "listings", DAY)
    want = day_listings.filter((pl.col("platform") == "ebay") & (pl.col("status") == "active"))
    assert landed.height == want.height > 200  # several pages of 200
    assert set(landed["seller_id"]) == set(want["seller_id"])
    assert landed["listed_at"].null_count() == 0
    assert run.rows_landed == want.height
    hits = [h.path for h in server.hits if "item_summary" in h.path]
    assert len(hits) == -(-want.height // 200)
