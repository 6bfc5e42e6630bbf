"""The forecaster: one object that ``stockroom forecast``, ``stockroom bench forecast`` and the
procurement replay all use, so the benchmarks measure exactly what ships.

In the spirit of Nixtla's ``MLForecast``: a :class:`ForecasterConfig` (the global model's
lags, lag transforms and calendar features; routing candidates; rules; interval levels) makes
a :class:`Forecaster` with :meth:`~Forecaster.fit`, :meth:`~Forecaster.predict`,
:meth:`~Forecaster.cross_validation` (rolling origin), :meth:`~Forecaster.save` and
:meth:`Forecaster.load`.

What a fit at day index ``cutoff`` does, in order:

1. **rules** (:mod:`stockroom.forecast.rules`): dormant SKUs (silent for about three of their
   usual intervals between sales, 30 days at least) and cold starts (first sale under 30 days
   ago) are told apart from the *active* ones;
2. with at least ``min_history_days`` + horizon days of history, the **global XGBoost model**
   (:class:`~stockroom.forecast.model.GlobalModel`) is trained on the active and new series and
   on dormant ones with a selling history -- training on the active ones only scored 0.749
   WRMSSE on the M5 subset against 0.737, the rules' outputs being the same; with less history
   every active series gets TSB (Teunter, Syntetos & Babai 2011);
3. **routing** (:mod:`stockroom.forecast.routing`): each series goes to the candidate with the
   lowest squared error on the ``horizon`` days before the cutoff (the calibration window),
   and its forecast, unless the series is intermittent, is averaged with those of ETS(A,N,A)
   and weekly SES fitted on its winsorized history (``combine_with``; an erratic series
   gets those two alone, model :data:`SMOOTHING`); intervals are
   split-conformal quantiles of the combined errors of the *active* series on that window
   (dormant series' exact zeros would make them too narrow).

:meth:`~Forecaster.predict` applies the rules again at its own cutoff (the replay reuses one
fit for four weekly reviews): dormant series get 0, cold starts their category's average
blended with their own rate (Poisson bands at that rate), active ones the routed and
combined forecast;
then products launched inside the data fewer than 60 days ago get what their 50 nearest
earlier launches sold after the same age (:mod:`stockroom.forecast.reference_class`), where
enough earlier launches are known.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path

import numpy as np
import polars as pl
import xgboost as xgb

from stockroom import tables
from stockroom.forecast import baselines, reference_class, routing, rules
from stockroom.forecast.artefact import MANIFEST_FILE, read_manifest
from stockroom.forecast.data import Panel, observed
from stockroom.forecast.model import (
    QUANTILES,
    GlobalModel,
    ModelConfig,
    calibration_windows,
    for_history,
    training_days,
)

#: Version of the artefact layout :meth:`Forecaster.save` writes.
# 2: interval scores per horizon bucket and for lead-time sums; 3: combine_with; 4: combine_with
# a tuple of baselines (the winsorized ETS and weekly SES); 5: erratic series on the partners alone
ARTEFACT_FORMAT = 5
BANDS = ("q05", "q25", "q50", "q75", "q95")
LEAD_BANDS = tables.LEAD_BANDS  # demand summed over days 1..L, units
GLOBAL = "global_xgboost"
#: The model name of a series forecast by the winsorized smoothing partners alone
#: (:func:`stockroom.forecast.routing.on_partners_only`: erratic series).
SMOOTHING = "winsorized_smoothing"


@dataclass(frozen=True)
class ForecasterConfig:
    """Everything that decides a forecast.

    ``model``: the global model (lags, lag transforms, calendar features, trees, horizon in
    days, interval quantiles as shares 0-1); ``candidates``: the routing candidates,
    ``global_xgboost`` first, then baselines by name (one candidate = no routing);
    ``combine_with``: the baselines every routed forecast is averaged with, equal weights
    (None or empty: none; :func:`stockroom.forecast.routing.combine`); ``rules``: apply
    dormant / cold-start rules (off: every launched series is forecast by the model);
    ``min_history_days``: below this much history (plus the horizon) the model is not
    trained and active series get TSB; ``train_min_sale_days``: a dormant series joins the
    model's training set only with at least this many days with a sale.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    candidates: tuple[str, ...] = routing.CANDIDATES
    combine_with: tuple[str, ...] | None = routing.COMBINE_WITH
    rules: bool = True
    min_history_days: int = 90
    train_min_sale_days: int = 10

    def __post_init__(self) -> None:
        if not self.candidates or self.candidates[0] != GLOBAL:
            raise ValueError(f"candidates must start with {GLOBAL!r}: {self.candidates}")
        unknown = [
            c
            for c in (*self.candidates[1:], *(self.combine_with or ()))
            if c not in baselines.BASELINES
        ]
        if unknown:
            raise ValueError(
                f"unknown routing candidate(s) {unknown}; known: " + ", ".join(baselines.BASELINES)
            )

    @property
    def horizon(self) -> int:
        """Days ahead (the model's horizon)."""
        return self.model.horizon

    @classmethod
    def shipped(cls, horizon: int = 28, **model: object) -> ForecasterConfig:
        """The configuration ``stockroom forecast`` ships, for ``horizon`` days; ``model``
        overrides :class:`ModelConfig` fields (e.g. ``trees=60`` in tests)."""
        return cls(model=ModelConfig(horizon=horizon, **model))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ForecasterConfig:
        m = {k: tuple(v) if isinstance(v, list) else v for k, v in data["model"].items()}
        return cls(
            model=ModelConfig(**m),
            candidates=tuple(data["candidates"]),
            combine_with=tuple(data["combine_with"]) if data["combine_with"] else None,
            rules=data["rules"],
            min_history_days=data["min_history_days"],
            train_min_sale_days=data["train_min_sale_days"],
        )


@dataclass
class Forecast:
    """One forecast made at day index ``cutoff`` (the as-of day, ``as_of``).

    Arrays are n_series x horizon, float64, aligned to ``ids``: ``yhat`` and ``bands`` q05..q95
    (units/day) and lead_q05..lead_q95 (units summed over days 1..L, L = column + 1).
    Dormant series (and, with rules, series not launched by the cutoff) get 0 and a
    zero-width band; cold starts Poisson quantiles at their rate; young launches with a
    reference class its empirical quantiles; under the TSB fallback, which
    has no calibration window, the band equals ``yhat``; without rules, series not launched
    by the cutoff are NaN throughout. ``model``: per series the model that made it
    (``global_xgboost`` / a baseline / ``tsb`` / :data:`SMOOTHING` (an erratic series on the
    winsorized smoothing partners alone) / ``category_average`` / ``reference_class`` /
    ``dormant``; a combined series is named by its routed member);
    ``flags``: per series a list of ``dormant``, ``cold_start``, ``low_confidence``;
    ``backtest``: the chosen model's forecast of the ``horizon`` days up to the cutoff, made
    without them (NaN where there is none) -- only when predicting at the fit cutoff.
    """

    ids: list[str]
    as_of: date
    cutoff: int
    yhat: np.ndarray
    bands: dict[str, np.ndarray]
    model: np.ndarray
    flags: list[list[str]]
    backtest: np.ndarray

    def to_frame(self) -> pl.DataFrame:
        """Long frame, one row per series and target day: sku (str), target_date (Date),
        horizon (int32, days), yhat (float, >= 0), q05..q95 (float, null = no interval),
        lead_q05..lead_q95 (float, units over days 1..horizon, null = no interval),
        model (str), flags (str, comma-separated)."""
        n, h = self.yhat.shape
        targets = [self.as_of + timedelta(days=k) for k in range(1, h + 1)]
        return pl.DataFrame(
            {
                "sku": np.repeat(self.ids, h),
                "target_date": targets * n,
                "horizon": np.tile(np.arange(1, h + 1), n).astype(np.int32),
                "yhat": np.maximum(np.nan_to_num(self.yhat.ravel()), 0.0),
                **{k: v.ravel() for k, v in self.bands.items()},
                "model": np.repeat(self.model, h).astype(str),
                "flags": np.repeat([",".join(f) for f in self.flags], h),
            }
        ).with_columns([pl.col(k).fill_nan(None) for k in self.bands])


def fingerprint(p: Panel, cutoff: int) -> str:
    """sha256 of the data a fit at ``cutoff`` sees: ids, dates, units, prices and flags up to
    and including the cutoff (so two fits on the same history share it)."""
    digest = hashlib.sha256()
    digest.update("\n".join(p.ids).encode())
    digest.update(f"{p.dates[0]}/{p.dates[min(cutoff, len(p.dates) - 1)]}".encode())
    for a in (
        p.y[:, : cutoff + 1],
        p.price[:, : cutoff + 1],
        p.promo[:, : cutoff + 1],
        p.snap[:, : cutoff + 1],
        p.category,
    ):
        digest.update(np.ascontiguousarray(np.nan_to_num(a, nan=-1.0)).tobytes())
    return digest.hexdigest()


def subset(p: Panel, mask: np.ndarray) -> Panel:
    """The series of ``p`` where ``mask`` (bool per series) is True."""
    return replace(
        p,
        ids=[i for i, m in zip(p.ids, mask, strict=True) if m],
        y=p.y[mask],
        price=p.price[mask],
        promo=p.promo[mask],
        snap=p.snap[mask],
        category=p.category[mask],
        first=p.first[mask],
        censored=None if p.censored is None else p.censored[mask],
    )


def _features_in(models: xgb.XGBRegressor | list[xgb.XGBRegressor]) -> int:
    """How many features the given (first) model was trained on."""
    first = models if isinstance(models, xgb.XGBModel) else models[0]
    return first.n_features_in_


def _rule_masks(p: Panel, cutoff: int, use_rules: bool) -> tuple[np.ndarray, ...]:
    """(dormant, cold start, active) per series at ``cutoff``."""
    launched = p.first <= cutoff
    if not use_rules:
        none = np.zeros(len(p.ids), dtype=bool)
        return none, none, launched
    dormant = rules.dormant(p.y, cutoff)
    cold = rules.cold_start(p.first, cutoff) & ~dormant
    return dormant, cold, ~dormant & ~cold & launched


class Forecaster:
    """Fit once, forecast at that cutoff or later ones, backtest by rolling origin, save and
    load. See the module docstring for what a fit does."""

    def __init__(self, config: ForecasterConfig | None = None) -> None:
        self.config = config or ForecasterConfig()
        self.model: GlobalModel | None = None
        self.routing: routing.Routing | None = None
        self.routed_ids: dict[str, int] = {}  # series id -> row of the routing arrays
        self.cutoff: int | None = None
        self.dates: tuple[date, date] | None = None  # first day of the data, the cutoff day
        self.training_window: tuple[date, date] | None = None
        self.data_fingerprint: str | None = None

    # -- fitting -------------------------------------------------------------------------

    def fit(
        self,
        p: Panel,
        cutoff: int | None = None,
        earlier: xgb.XGBRegressor | list[xgb.XGBRegressor] | None = None,
        windows: int | None = None,
    ) -> Forecaster:
        """Fit on the days up to index ``cutoff`` (default: the panel's last day). ``earlier``
        (the point model of a fit ``horizon`` days before, then its calibration models)
        serves as the calibration models instead of training them again -- what
        :meth:`cross_validation` does between windows. The lead-time sums are calibrated on
        ``windows`` windows (default :func:`~stockroom.forecast.model.calibration_windows`
        of the active series: 2, more for a small catalog). Returns self."""
        cutoff = len(p.dates) - 1 if cutoff is None else cutoff
        c = self.config
        h = c.horizon
        dormant, _, active = _rule_masks(p, cutoff, c.rules)
        sale_days = (np.nan_to_num(p.y[:, : cutoff + 1]) > 0).sum(axis=1)
        train = (p.first <= cutoff) & (~dormant | (sale_days >= c.train_min_sale_days))
        self.model = self.routing = None
        self.routed_ids = {}
        if active.any() and cutoff >= c.min_history_days + h:
            # the model learns from every launched series -- new ones, and dormant ones with a
            # selling history (``train_min_sale_days``): the rules only decide what a series
            # is shown. One-off SKUs gone quiet (most of a catalog like Olist's) would add
            # millions of zero rows and nothing to learn.
            sub = subset(p, train)
            if windows is None:
                windows = calibration_windows(int(active[train].sum()))
            config = for_history(c.model, cutoff)
            if earlier is not None and _features_in(earlier) != len(config.columns):
                earlier = None  # trained with other features (before the annual ones)
            self.model = GlobalModel(config).fit(sub, cutoff, earlier, windows)
            # intervals are calibrated on the routed errors of the series the model forecasts
            # (the active ones), not on dormant series' exact zeros
            self.routing = routing.choose(
                self.model, sub, cutoff, c.candidates, active[train], c.combine_with
            )
            self.routed_ids = {s: i for i, s in enumerate(sub.ids)}
            first = training_days(c.model, cutoff)[0]
            self.training_window = (p.dates[first], p.dates[cutoff])
        else:
            self.training_window = (p.dates[0], p.dates[cutoff])
        self.cutoff = cutoff
        self.dates = (p.dates[0], p.dates[cutoff])
        self.data_fingerprint = fingerprint(p, cutoff)
        return self

    @property
    def point_model(self) -> xgb.XGBRegressor | None:
        """The fitted global model's point regressor (None without one)."""
        return self.model.point if self.model else None

    # -- forecasting ---------------------------------------------------------------------

    def _day_index(self, p: Panel, cutoff: int | None) -> int:
        if self.cutoff is None:
            raise RuntimeError("the forecaster is not fitted: call fit() or load()")
        if cutoff is not None:
            return cutoff
        k = (self.dates[1] - p.dates[0]).days
        if not 0 <= k < len(p.dates):
            raise ValueError(
                f"the panel ({p.dates[0]} .. {p.dates[-1]}) does not reach the "
                f"fit's cutoff day {self.dates[1]}"
            )
        return k

    def predict(self, p: Panel, cutoff: int | None = None) -> Forecast:
        """Forecast the ``horizon`` days after day index ``cutoff`` of ``p`` (default: the fit's
        cutoff day) from the fitted model and routing, applying the rules at ``cutoff``.
        Series unknown to the fit's routing use the global model. Raises RuntimeError when
        not fitted, ValueError when the panel does not reach the fit's cutoff day."""
        cutoff = self._day_index(p, cutoff)
        c = self.config
        h = c.horizon
        n = len(p.ids)
        dormant, cold, active = _rule_masks(p, cutoff, c.rules)
        yhat = np.zeros((n, h))
        # dormant: 0 with a zero-width band
        bands = {k: np.zeros((n, h)) for k in BANDS + LEAD_BANDS}
        model = np.array(["dormant"] * n, dtype=object)
        backtest = np.full((n, h), np.nan)
        at_fit = cutoff == self.cutoff
        if active.any():
            sub = subset(p, active)
            rows = np.nonzero(active)[0]
            if self.model is not None:
                idx = np.array([self.routed_ids.get(s, -1) for s in sub.ids])
                known = idx >= 0
                choice = np.where(known, self.routing.choice[np.maximum(idx, 0)], 0)
                fc = routing.apply(
                    self.model,
                    sub,
                    cutoff,
                    routing.Routing(choice, None, self.routing.residual_q, self.routing.lead_q),
                    c.candidates,
                    c.combine_with,
                )
                model[rows] = np.array(c.candidates, dtype=object)[choice]
                model[rows[routing.on_partners_only(fc["groups"], c.combine_with)]] = SMOOTHING
                if at_fit:
                    backtest[rows[known]] = self.routing.backtest[idx[known]]
                for k in BANDS + LEAD_BANDS:
                    bands[k][rows] = fc[k]
                yhat[rows] = fc["yhat"]
            else:
                yhat[rows] = baselines.tsb(sub.y[:, : cutoff + 1], h)
                for k in BANDS:  # no calibration window: a zero-width interval
                    bands[k][rows] = yhat[rows]
                for k in LEAD_BANDS:
                    bands[k][rows] = np.cumsum(yhat[rows], axis=1)
                model[rows] = "tsb"
                if at_fit and cutoff >= 2 * h:
                    backtest[rows] = baselines.tsb(sub.y[:, : cutoff + 1 - h], h)
        not_launched = ~(dormant | cold | active)
        if cold.any():
            average = rules.cold_start_forecast(p.y, p.category, active, p.first, cutoff)
            yhat[cold] = average[cold, None]
            daily, summed = rules.poisson_bands(
                average[cold], h, dict(zip(BANDS, QUANTILES, strict=True))
            )
            for k in BANDS:
                bands[k][cold] = daily[k]
                bands["lead_" + k][cold] = summed[k]
            model[cold] = "category_average"
        if c.rules:  # young launches: what their nearest earlier launches sold next
            rows = np.nonzero(reference_class.young(p.first, cutoff) & ~dormant)[0]
            done, ref_yhat, daily, summed = reference_class.forecast(
                p.y, p.first, cutoff, rows, h, dict(zip(BANDS, QUANTILES, strict=True))
            )
            rows = rows[done]
            yhat[rows] = ref_yhat[done]
            for k in BANDS:
                bands[k][rows] = daily[k][done]
                bands["lead_" + k][rows] = summed[k][done]
            model[rows] = "reference_class"
        flags: list[list[str]] = [[] for _ in range(n)]
        for i in np.nonzero(dormant)[0]:
            flags[i].append("dormant")
        for i in np.nonzero(cold)[0]:
            flags[i].append("cold_start")
        low = active & rules.low_confidence(yhat, bands["q05"], bands["q95"])
        for i in np.nonzero(low)[0]:
            flags[i].append("low_confidence")
        if not c.rules:  # the model alone: series not launched by the cutoff get no forecast
            yhat[not_launched] = np.nan
            for k in BANDS + LEAD_BANDS:
                bands[k][not_launched] = np.nan
            model[not_launched] = "none"
        return Forecast(list(p.ids), p.dates[cutoff], cutoff, yhat, bands, model, flags, backtest)

    def explain(self, p: Panel, cutoff: int | None = None, top: int = 5) -> dict[str, str]:
        """Per series routed to the global model (and not on the smoothing partners alone:
        :data:`SMOOTHING`), its ``top`` SHAP drivers of the first
        forecast day as JSON ``[[feature, value], ...]`` (log units: exp(value) is the
        multiplicative effect; :meth:`GlobalModel.contributions`). Empty without a model."""
        cutoff = self._day_index(p, cutoff)
        if self.model is None:
            return {}
        _, _, active = _rule_masks(p, cutoff, self.config.rules)
        sub = subset(p, active)
        names = self.config.model.all_features
        contributions = self.model.contributions(sub, cutoff)
        order = np.argsort(-np.abs(contributions[:, :-1]), axis=1)[:, :top]
        groups = routing.demand_groups(sub.y, cutoff)
        smoothed = routing.on_partners_only(groups, self.config.combine_with)
        out = {}
        for sku, row, idx, alone in zip(sub.ids, contributions, order, smoothed, strict=True):
            k = self.routed_ids.get(sku)
            if k is not None and self.routing.choice[k] == 0 and not alone:
                out[sku] = json.dumps(
                    [[names[j], round(float(row[j]), 4)] for j in idx if row[j] != 0]
                )
        return out

    # -- backtesting ---------------------------------------------------------------------

    def cross_validation(
        self, p: Panel, windows: int = 3, step: int | None = None
    ) -> list[tuple[Forecast, np.ndarray]]:
        """Rolling-origin backtest: ``windows`` origins ``step`` days apart (default: the
        horizon, so the windows do not overlap), the last window ending on the panel's last
        day. At each origin a fresh fit of this configuration sees only the days up to it.
        Returns (forecast, actual) per window, oldest first; ``actual`` is n_series x horizon
        units (NaN before launch and on censored days: :func:`.data.observed`). With
        ``step`` = horizon, each fit calibrates on the previous window's model instead of
        training it again (same model, half the cost).
        Raises ValueError when the panel is too short."""
        h = self.config.horizon
        step = step or h
        d = len(p.dates)
        first = d - 1 - h - (windows - 1) * step
        if first < h + 8:
            raise ValueError(f"{d} days are too few for {windows} windows of {h} days")
        out = []
        previous: Forecaster | None = None
        for w in range(windows):
            cutoff = first + w * step
            earlier = (
                [previous.point_model, *previous.model.calibration_models]
                if previous is not None and previous.model is not None and step == h
                else None
            )
            fitted = Forecaster(self.config).fit(p, cutoff, earlier)
            out.append((fitted.predict(p, cutoff), observed(p, cutoff + 1, cutoff + 1 + h)))
            previous = fitted
        return out

    # -- artefacts -----------------------------------------------------------------------

    def save(self, path: Path) -> Path:
        """Write the fitted forecaster to the folder ``path`` (replaced whole, atomically):
        ``manifest.json`` (artefact format, config, cutoff day, training window, data
        fingerprint, library versions, time), ``point.ubj`` and ``calibration`` arrays in
        ``state.npz``. Raises RuntimeError when not fitted."""
        if self.cutoff is None:
            raise RuntimeError("the forecaster is not fitted: nothing to save")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{path.name}-", dir=path.parent))
        try:
            manifest = {
                "format": ARTEFACT_FORMAT,
                "config": self.config.to_dict(),
                "cutoff": self.cutoff,
                "data_start": str(self.dates[0]),
                "as_of": str(self.dates[1]),
                "training_window": [str(d) for d in self.training_window],
                "data_fingerprint": self.data_fingerprint,
                "versions": library_versions(),
                "created_at": datetime.now(UTC).isoformat(),
                "has_model": self.model is not None,
                # the features the fitted model left out (:func:`model.for_history`)
                "model_exclude": list(self.model.config.exclude) if self.model else [],
            }
            arrays: dict[str, np.ndarray] = {}
            if self.model is not None:
                self.model.point.save_model(stage / "point.ubj")
                arrays = {
                    "residual_q": self.model.residual_q,
                    "lead_q": self.model.lead_q,
                    "calibration_forecast": self.model.calibration_forecast,
                    "choice": self.routing.choice,
                    "backtest": self.routing.backtest,
                    "routed_residual_q": self.routing.residual_q,
                    "routed_lead_q": self.routing.lead_q,
                    "routed_ids": np.array(list(self.routed_ids), dtype=str),
                }
            np.savez(stage / "state.npz", **arrays)
            (stage / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2))
            old = None
            if path.exists():
                old = path.with_name(f".{path.name}-old-{os.getpid()}")
                path.rename(old)
            stage.rename(path)
            if old is not None:
                shutil.rmtree(old)
        finally:
            if stage.exists():
                shutil.rmtree(stage)
        return path

    @classmethod
    def load(cls, path: Path) -> Forecaster:
        """Read a forecaster written by :meth:`save`. Raises FileNotFoundError without a
        manifest and ValueError for an artefact format this version cannot read."""
        path = Path(path)
        manifest = read_manifest(path)
        if manifest.get("format") != ARTEFACT_FORMAT:
            raise ValueError(
                f"{path}: artefact format {manifest.get('format')} is not "
                f"{ARTEFACT_FORMAT}; refit with this version"
            )
        out = cls(ForecasterConfig.from_dict(manifest["config"]))
        out.cutoff = manifest["cutoff"]
        out.dates = (
            date.fromisoformat(manifest["data_start"]),
            date.fromisoformat(manifest["as_of"]),
        )
        out.training_window = tuple(date.fromisoformat(d) for d in manifest["training_window"])
        out.data_fingerprint = manifest["data_fingerprint"]
        if manifest["has_model"]:
            state = np.load(path / "state.npz")
            point = xgb.XGBRegressor()
            point.load_model(path / "point.ubj")
            exclude = tuple(manifest.get("model_exclude", out.config.model.exclude))
            out.model = GlobalModel(
                replace(out.config.model, exclude=exclude),
                point,
                state["residual_q"],
                state["lead_q"],
                state["calibration_forecast"],
            )
            out.routing = routing.Routing(
                state["choice"],
                state["backtest"],
                state["routed_residual_q"],
                state["routed_lead_q"],
            )
            out.routed_ids = {s: i for i, s in enumerate(state["routed_ids"].tolist())}
        return out

    @staticmethod
    def manifest(path: Path) -> dict:
        """The manifest of a saved forecaster (config, window, fingerprint, versions)."""
        return read_manifest(path)


def library_versions() -> dict[str, str]:
    """Versions of Stockroom and the libraries a forecast depends on."""
    out = {}
    for name in ("stockroom", "xgboost-cpu", "numpy", "polars", "statsmodels"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out
