"""Every page in a real headless Chromium against a real `stockroom serve` on 127.0.0.1."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_pages_render_in_chromium(browser, olist_root, tmp_path):
    with browser.serve(olist_root) as url:
        seen = browser.visit(url, tmp_path)
    assert set(seen) == {"seller_concentration", "supply", "data_health"}
    for name, info in seen.items():
        charts = 1 if name == "data_health" else 2
        assert info["errors"] == 0, name
        assert info["charts"] == charts and info["tables"] >= 1, name
        assert len(info["metrics"]) == (4 if name == "data_health" else 6), name
        assert (tmp_path / f"{name}.png").stat().st_size > 20_000
    assert "Job success rate" in seen["data_health"]["metrics"]
    assert "HHI (0-10,000)" in seen["seller_concentration"]["metrics"]
