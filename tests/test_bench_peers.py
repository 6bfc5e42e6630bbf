"""The benchmark's statsforecast peers (AutoETS, ETS(A,N,A)) on a panel with a product
launched days before the cutoff (statsforecast refuses such "tiny" series; the peers fall
back to their average)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_procurement_replay import make_panel

pytest.importorskip("statsforecast", reason="the bench extra is not installed (.[bench])")


def test_autoets_forecasts_a_product_launched_days_ago():
    from stockroom_bench import peers

    d = 120
    weekly = np.tile([2.0, 2.0, 3.0, 3.0, 4.0, 8.0, 6.0], d // 7 + 1)[:d]
    launched = np.full(d, np.nan)
    launched[-3:] = [5.0, 0.0, 4.0]  # three days on sale
    p = make_panel(np.vstack([weekly, launched]))
    for fit in (peers.autoets, peers.ets_ana):
        got = fit(p, d - 1, 14)
        assert got.shape == (2, 14) and np.isfinite(got).all() and (got >= 0).all()
        # the launched product: its historic average; the steady one keeps its weekly shape,
        # Saturday (day 5 of the cycle) its peak
        assert got[1] == pytest.approx(np.full(14, 3.0))
        assert got[0].max() - got[0].min() > 2.0
        assert got[0][(d + np.arange(14)) % 7 == 5] == pytest.approx([8.0, 8.0], abs=1.0)
