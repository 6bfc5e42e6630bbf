"""Market data and pricing: fee schedules (:mod:`.fees`), market statistics from sales
(:mod:`.prices`) and the views a seller acts on (:mod:`.views`: best platform after fees,
repricing, cross-platform summary, price moves, history).

:func:`context` gathers what every view needs for one data root: the thresholds, the fee
schedule and the seller's price limits, from ``[market]`` in ``stockroom.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from stockroom import sources
from stockroom.market import fees, views


@dataclass(frozen=True)
class Context:
    """``rules`` (thresholds), ``schedule`` (validated fee schedule) and ``price_rules``
    (per-SKU floor/ceiling, possibly empty) of one data root."""

    rules: views.Rules
    schedule: pl.DataFrame
    price_rules: pl.DataFrame


def context(root: Path) -> Context:
    """The market settings of ``root`` (``[market]`` in its stockroom.toml; defaults when
    absent). Raises :class:`stockroom.errors.StockroomError` for a bad setting and
    :class:`stockroom.errors.InputError` for a bad fee schedule or price-rules file."""
    cfg = sources.load(root).market
    rules = views.Rules(cfg.reprice_above, cfg.undercut, cfg.tie_share, cfg.move_threshold)
    schedule = fees.load(None if cfg.fees is None else Path(root) / cfg.fees)
    return Context(rules, schedule, views.load_price_rules(Path(root) / cfg.price_rules))


def stamp(root: Path) -> tuple:
    """What changes :func:`context` besides stockroom.toml: the modification times of the
    seller's fee schedule and price-rules files (None for a missing file). Caches key on it."""
    cfg = sources.load(root).market
    files = [Path(root) / cfg.price_rules] + ([Path(root) / cfg.fees] if cfg.fees else [])
    return tuple(p.stat().st_mtime_ns if p.is_file() else None for p in files)
