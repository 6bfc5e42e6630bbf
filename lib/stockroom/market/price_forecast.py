"""The median sale price 30 days ahead, per item (sneaker x size), learned from sales only.

**Target.** At a forecast origin *t* (a day), the median of the item's sale prices in the 30
days after it, (t, t + 30]; scored where the item has at least :data:`MIN_TARGET_SALES` sales
there.

**Model.** One global gradient-boosted tree model (XGBoost, squared error, shallow and
regularised) of the log ratio ``ln(target / last)``, where ``last`` is the item's last sale
price up to *t*; the forecast is ``last x exp(k x prediction)``, the prediction shrunk towards
the last sale by ``k`` in [0, 1] chosen on the last 60 days of training origins held out (the
model refitted on all of them after): a change the trees learned from one regime is trusted
only as far as it held on the most recent one. Features, all from sales up to *t*
(``m30`` = the median sale price of the 30 days up to *t*): the log ratios of the last sale,
the 7-day and the 90-day medians to ``m30``; the log ratios of the item's sneaker's (every size
together) 7-day and 90-day medians to its 30-day median; the sales counts of the last 7 and
30 days (log1p); the days since the item's first sale and since its last sale; the volatility
of :mod:`stockroom.market.prices`.
Trained on every day's origin whose 30-day target window ends before the cut-off (the
past only) -- direct multi-step forecasting of a horizon total, as in Taieb & Hyndman (2014),
with a ratio target so one model serves items priced 100 or 3,000.

**Baselines** (:func:`backtest`): the last sale price, and ``m30``. Measures: MAPE (mean
absolute percentage error of the 30-day-ahead median, share) and the share of items whose
absolute percentage error is under 10 %.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from stockroom.market.prices import SalePath, forward_fill, last_sale_day, volatility

HORIZON_DAYS = 30
MIN_TARGET_SALES = 3
STEP_DAYS = 7
FEATURES = (
    "r_last",
    "r_m7",
    "r_m90",
    "g_m7",
    "g_m90",
    "n7",
    "n30",
    "age",
    "idle",
    "vol",
)


def _window_median(path: SalePath, end: int, days: int) -> np.ndarray:
    """[S] median of every sale price of days (end - days, end] (NaN without sales), from the
    daily medians weighted by their counts (exact when a day's prices are equal; close
    otherwise): one vectorised weighted median per column."""
    lo = max(0, end - days + 1)
    return _column_weighted_median(path.median[lo : end + 1], path.count[lo : end + 1])


def _column_weighted_median(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """[S] the weighted median of each column of ``values`` [W, S] (weights 0 where NaN)."""
    keyed = np.where(weights > 0, values, np.inf)
    order = np.argsort(keyed, axis=0)
    v = np.take_along_axis(keyed, order, axis=0)
    w = np.take_along_axis(np.where(weights > 0, weights, 0), order, axis=0)
    cum = np.cumsum(w, axis=0)
    total = cum[-1]
    pick = np.argmax(cum >= total / 2.0, axis=0)
    out = v[pick, np.arange(v.shape[1])]
    return np.where(total > 0, out, np.nan)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    return float(v[np.searchsorted(cum, cum[-1] / 2.0)])


def _group_median(path: SalePath, groups: np.ndarray, end: int, days: int) -> np.ndarray:
    """[S] the median of the item's group (sneaker), every size together, broadcast back."""
    lo = max(0, end - days + 1)
    med, cnt = path.median[lo : end + 1], path.count[lo : end + 1]
    out = np.full(med.shape[1], np.nan)
    for g in np.unique(groups):
        cols = np.flatnonzero(groups == g)
        have = cnt[:, cols] > 0
        if have.any():
            out[cols] = _weighted_median(med[:, cols][have], cnt[:, cols][have])
    return out


def panel(path: SalePath, origins: list[date], groups: list[str]) -> pl.DataFrame:
    """One row per (item, origin) with an ``m30``: sku, origin (Date), m30, last (money),
    the :data:`FEATURES`, and ``target`` (the median of the next 30 days; null where the item
    has fewer than :data:`MIN_TARGET_SALES` sales there or the window runs past the data)."""
    index = {d: i for i, d in enumerate(path.days)}
    group_ids = np.unique(np.array(groups), return_inverse=True)[1]
    last_price = forward_fill(path.last)
    last_day = last_sale_day(path.count)
    vol = volatility(path.median)
    first_day = np.argmax(path.count > 0, axis=0)
    csum = np.cumsum(path.count, axis=0)
    frames = []
    for origin in origins:
        t = index.get(origin)
        if t is None:
            continue
        m30 = _window_median(path, t, 30)
        live = ~np.isnan(m30)
        if not live.any():
            continue
        m7, m90 = _window_median(path, t, 7), _window_median(path, t, 90)
        g7 = _group_median(path, group_ids, t, 7)
        g30 = _group_median(path, group_ids, t, 30)
        g90 = _group_median(path, group_ids, t, 90)
        n7 = csum[t] - (csum[t - 7] if t >= 7 else 0)
        n30 = csum[t] - (csum[t - 30] if t >= 30 else 0)
        end = t + HORIZON_DAYS
        if end < len(path.days):
            ahead = _window_median(path, end, HORIZON_DAYS)
            n_ahead = csum[end] - csum[t]
            target = np.where(n_ahead >= MIN_TARGET_SALES, ahead, np.nan)
        else:
            target = np.full(len(path.skus), np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            cols = {
                "r_last": np.log(last_price[t] / m30),
                "r_m7": np.log(m7 / m30),
                "r_m90": np.log(m90 / m30),
                "g_m7": np.log(g7 / g30),
                "g_m90": np.log(g90 / g30),
                "n7": np.log1p(n7),
                "n30": np.log1p(n30),
                "age": (t - first_day).astype(float),
                "idle": (t - last_day[t]).astype(float),
                "vol": vol[t],
            }
        frame = pl.DataFrame(
            {
                "sku": np.array(path.skus)[live],
                "origin": [origin] * int(live.sum()),
                "m30": m30[live],
                "last": last_price[t][live],
                **{k: v[live] for k, v in cols.items()},
                "target": target[live],
            },
            nan_to_null=True,
        )
        frames.append(frame)
    return pl.concat(frames) if frames else pl.DataFrame()


def sneaker(sku: str) -> str:
    """The sneaker of a sneaker x size sku (``<name>-<size>``)."""
    return sku.rsplit("-", 1)[0]


#: shrinkage factors tried on the held-out recent origins
SHRINKS = (0.0, 0.25, 0.5, 0.75, 1.0)
#: days of the most recent training origins held out to choose the shrinkage
HOLDOUT_DAYS = 60


@dataclass
class PriceForecaster:
    """Fit on a :func:`panel` (rows with a target), predict the 30-day-ahead median."""

    trees: int = 200
    depth: int = 3
    learning_rate: float = 0.03
    threads: int = 2
    seed: int = 18
    shrink: float = 1.0

    def _model(self):
        import xgboost as xgb

        return xgb.XGBRegressor(
            n_estimators=self.trees,
            max_depth=self.depth,
            learning_rate=self.learning_rate,
            min_child_weight=20,
            reg_lambda=10.0,
            subsample=0.8,
            colsample_bytree=0.8,
            tree_method="hist",
            n_jobs=self.threads,
            random_state=self.seed,
        )

    @staticmethod
    def _xy(rows: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        return rows.select(FEATURES).to_numpy(), np.log(
            rows["target"].to_numpy() / rows["last"].to_numpy()
        )

    def fit(self, train: pl.DataFrame) -> PriceForecaster:
        """Choose the shrinkage on the last :data:`HOLDOUT_DAYS` of origins (a model fitted on
        the origins before them), then fit on every row. Raises ValueError without rows."""
        rows = train.filter(pl.col("target").is_not_null())
        if rows.is_empty():
            raise ValueError("no training rows with a 30-day-ahead target")
        split = rows["origin"].max() - timedelta(days=HOLDOUT_DAYS)
        early, recent = (
            rows.filter(pl.col("origin") <= split),
            rows.filter(pl.col("origin") > split),
        )
        if early.height and recent.height:
            self.model = self._model().fit(*self._xy(early))
            raw = self.model.predict(recent.select(FEATURES).to_numpy())
            actual, last = recent["target"].to_numpy(), recent["last"].to_numpy()
            errors = [np.mean(np.abs(last * np.exp(k * raw) - actual) / actual) for k in SHRINKS]
            self.shrink = SHRINKS[int(np.argmin(errors))]
        self.model = self._model().fit(*self._xy(rows))
        return self

    def predict(self, rows: pl.DataFrame) -> np.ndarray:
        """[n] forecast of the median sale price of the 30 days after each row's origin."""
        ratio = self.model.predict(rows.select(FEATURES).to_numpy())
        return rows["last"].to_numpy() * np.exp(self.shrink * ratio)


def origins_between(first: date, last: date, step: int = STEP_DAYS) -> list[date]:
    out, day = [], first
    while day <= last:
        out.append(day)
        day += timedelta(days=step)
    return out


def _scores(actual: np.ndarray, forecast: np.ndarray) -> dict:
    ape = np.abs(forecast - actual) / actual
    return {"mape": float(np.mean(ape)), "within_10pct": float(np.mean(ape < 0.10))}


def backtest(sales: pl.DataFrame, cutoff: date, step: int = STEP_DAYS) -> dict:
    """Time split on real sales: train on every day's origin whose target window ends before
    ``cutoff``, score every origin from ``cutoff`` on (every ``step`` days) whose 30 days
    ahead are in the data. ``sales``: sku, day (Date), price, in the order they happened.

    Returns ``{"scored": rows, "items": distinct skus, "train_rows", "models": {name: {"mape",
    "within_10pct"}}, "ratios": {"mape_vs_best_baseline", "within_10pct_vs_best_baseline"}}``
    for the models ``price_forecast``, ``last_sale`` and ``median_30d``."""
    path = SalePath.from_sales(sales)
    groups = [sneaker(s) for s in path.skus]
    start = path.days[0] + timedelta(days=30)
    train_origins = origins_between(start, cutoff - timedelta(days=HORIZON_DAYS + 1), 1)
    test_origins = origins_between(cutoff, path.days[-1] - timedelta(days=HORIZON_DAYS), step)
    train = panel(path, train_origins, groups)
    test = panel(path, test_origins, groups).filter(pl.col("target").is_not_null())
    model = PriceForecaster().fit(train)
    actual = test["target"].to_numpy()
    models = {
        "price_forecast": _scores(actual, model.predict(test)),
        "last_sale": _scores(actual, test["last"].to_numpy()),
        "median_30d": _scores(actual, test["m30"].to_numpy()),
    }
    best_mape = min(models["last_sale"]["mape"], models["median_30d"]["mape"])
    best_within = max(models["last_sale"]["within_10pct"], models["median_30d"]["within_10pct"])
    return {
        "cutoff": cutoff.isoformat(),
        "scored": test.height,
        "items": test["sku"].n_unique(),
        "train_rows": int(train["target"].is_not_null().sum()),
        "shrink": model.shrink,
        "models": models,
        "ratios": {
            "mape_vs_best_baseline": models["price_forecast"]["mape"] / best_mape,
            "within_10pct_vs_best_baseline": models["price_forecast"]["within_10pct"] / best_within,
        },
    }


@dataclass(frozen=True)
class Outlook:
    """The 30-day-ahead median per item on a day, and whether to trust it.

    ``forecasts``: sku, last (money), forecast_30d (money), change (share, forecast / last - 1).
    ``trusted``: the forecaster beat the last-sale baseline (lower MAPE) on the most recent
    origins whose 30 days ahead are known (``day`` - 60 to ``day`` - 30), trained only on what
    came before them; ``check``: those MAPEs (``model``, ``last_sale``) and the rows scored."""

    forecasts: pl.DataFrame
    trusted: bool
    check: dict


def outlook(sales: pl.DataFrame, day: date) -> Outlook | None:
    """The :class:`Outlook` on ``day`` from ``sales`` (sku, day, price; sales after ``day`` are
    ignored); None when there are too few sales to train on."""
    sales = sales.filter(pl.col("day") <= day)
    if sales.is_empty():
        return None
    path = SalePath.from_sales(sales, end=day)
    groups = [sneaker(s) for s in path.skus]
    start = path.days[0] + timedelta(days=30)
    known = day - timedelta(days=HORIZON_DAYS)  # the last origin whose 30 days ahead are known
    rows = panel(path, [*origins_between(start, known, 1), day], groups)
    if rows.is_empty():
        return None
    scored = rows.filter(pl.col("target").is_not_null())
    gate_from = known - timedelta(days=HORIZON_DAYS)
    gate_train = scored.filter(pl.col("origin") < gate_from - timedelta(days=HORIZON_DAYS))
    gate_test = scored.filter(pl.col("origin") >= gate_from)
    if gate_train.height < 200 or gate_test.height < 50:
        return None
    actual = gate_test["target"].to_numpy()
    model_mape = _scores(actual, PriceForecaster().fit(gate_train).predict(gate_test))["mape"]
    last_mape = _scores(actual, gate_test["last"].to_numpy())["mape"]
    final = PriceForecaster().fit(scored)
    now = rows.filter(pl.col("origin") == day)
    forecasts = (
        now.select("sku", "last")
        .with_columns(pl.Series("forecast_30d", final.predict(now)).round(2))
        .with_columns((pl.col("forecast_30d") / pl.col("last") - 1).alias("change"))
    )
    check = {"model": model_mape, "last_sale": last_mape, "scored": gate_test.height}
    return Outlook(forecasts, model_mape < last_mape, check)


def as_frame(found: Outlook) -> pl.DataFrame:
    """``found`` as rows of the ``price_outlook`` table (the check repeated on every row)."""
    return found.forecasts.with_columns(
        pl.lit(found.trusted).alias("trusted"),
        pl.lit(float(found.check["model"])).alias("model_mape"),
        pl.lit(float(found.check["last_sale"])).alias("last_sale_mape"),
        pl.lit(int(found.check["scored"]), pl.Int64).alias("scored"),
    )


def from_frame(frame: pl.DataFrame) -> Outlook | None:
    """The :class:`Outlook` of ``price_outlook`` rows (None for no rows)."""
    if frame.is_empty():
        return None
    first = frame.row(0, named=True)
    check = {
        "model": first["model_mape"],
        "last_sale": first["last_sale_mape"],
        "scored": first["scored"],
    }
    return Outlook(frame.select("sku", "last", "forecast_30d", "change"), first["trusted"], check)
