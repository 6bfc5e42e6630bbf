"""Demand classes (Syntetos, Boylan & Croston, *On the categorization of demand patterns*,
JORS 56(5), 2005): each series by its average inter-demand interval (ADI, days per day with a
sale) and the squared coefficient of variation of its non-zero sales (CV²), with the paper's
cut-offs ADI 1.32 and CV² 0.49:

=============  ============  ===========
               CV² < 0.49    CV² >= 0.49
ADI < 1.32     smooth        erratic
ADI >= 1.32    intermittent  lumpy
=============  ============  ===========

Smooth series suit exponential smoothing and the global model; intermittent and lumpy ones
Croston-type methods (SBA, TSB). The benchmark scores every model per class.
"""

from __future__ import annotations

import warnings

import numpy as np

ADI_CUT = 1.32
CV2_CUT = 0.49
CLASSES = ("smooth", "erratic", "intermittent", "lumpy")
NO_DEMAND = "no demand"
#: Days of history a class is read from (the most recent year: patterns change).
CLASS_DAYS = 365


def adi_cv2(history: np.ndarray, days: int = CLASS_DAYS) -> tuple[np.ndarray, np.ndarray]:
    """(ADI, CV²) per series of ``history`` (n x T units/day, NaN before launch and on days
    not observed), over its last ``days`` days: ADI = observed days / days with a sale (days;
    inf without a sale), CV² = (std / mean)² of the non-zero daily units (population std; 0
    with fewer than two sale days)."""
    recent = history[:, -days:]
    seen = ~np.isnan(recent)
    sales = np.where(seen, recent, 0.0)
    hits = (sales > 0).sum(axis=1)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        adi = np.where(hits > 0, seen.sum(axis=1) / np.maximum(hits, 1), np.inf)
        nonzero = np.where(sales > 0, sales, np.nan)
        mean = np.nanmean(nonzero, axis=1)
        cv2 = np.where(hits > 1, (np.nanstd(nonzero, axis=1) / mean) ** 2, 0.0)
    return adi, np.nan_to_num(cv2)


def classify(history: np.ndarray, days: int = CLASS_DAYS) -> np.ndarray:
    """Class name per series (str array, one of :data:`CLASSES`, or :data:`NO_DEMAND` for a
    series without a sale in the window) from its last ``days`` days of ``history`` (n x T,
    NaN = not launched / not observed)."""
    adi, cv2 = adi_cv2(history, days)
    sparse = adi >= ADI_CUT
    varied = cv2 >= CV2_CUT
    names = np.array(CLASSES, dtype=object)[2 * sparse.astype(int) + varied.astype(int)]
    return np.where(np.isinf(adi), NO_DEMAND, names).astype(str)
