"""Baselines by hand."""

import numpy as np
import pytest

from stockroom.forecast import baselines


def test_seasonal_naive_repeats_the_last_week():
    hist = np.array([[np.nan, 1, 2, 3, 4, 5, 6, 7, 8]])
    assert baselines.seasonal_naive(hist, 9).tolist() == [[2, 3, 4, 5, 6, 7, 8, 2, 3]]


def test_croston_sba_tsb_by_hand():
    # demand 0,2,0,0,4 with alpha=.5: sizes 2 -> 2 + .5(4-2) = 3; intervals 2 (first at
    # t=1 -> 1+1) -> 2 + .5(3-2) = 2.5 -> Croston 3/2.5 = 1.2; SBA x (1 - .25) = 0.9
    hist = np.array([[0, 2, 0, 0, 4]], dtype=float)
    assert baselines.croston(hist, 2, alpha=0.5)[0] == pytest.approx([1.2, 1.2])
    assert baselines.sba(hist, 1, alpha=0.5)[0, 0] == pytest.approx(0.9)
    # TSB, alpha=beta=.5, from the first demand (t=1): p 1 -> .5 (t2) -> .25 (t3) -> .625 (t4)
    # size 2 -> 3 at t4 -> .625 * 3
    assert baselines.tsb(hist, 1, alpha=0.5, beta=0.5)[0, 0] == pytest.approx(1.875)


def test_ses_tracks_a_level_and_never_goes_negative():
    rng = np.random.default_rng(0)
    hist = np.vstack([5 + rng.normal(0, 0.1, 200), np.zeros(200)])
    out = baselines.ses(hist, 3)
    assert out[0] == pytest.approx([5, 5, 5], abs=0.2) and (out[1] == 0).all()
