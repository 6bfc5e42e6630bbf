"""The morning plan: one row per SKU with its stock, runway, stockout date, demand over the
protection period at the service level, open POs, the recommended order and the action.

Inputs (as they stood on the as-of date): the ``forecasts`` snapshot, the ``stock`` snapshot
(summed over locations; the SKU is the seller's own, matched to the forecast's SKU as is), open
purchase orders and settings from the workbench database, and from ``orders`` each SKU's last
unit price (median of its last sale day, the orders' currency), main platform (most units) and
its last 8 weeks of unit sales. Formulas: :mod:`stockroom.procurement.policy`; lists:
:mod:`stockroom.procurement.actions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from stockroom import products, store, workbench
from stockroom.db import cached
from stockroom.errors import StockroomError
from stockroom.mapping import views as mapping_views
from stockroom.procurement import actions, policy, repo
from stockroom.tables import LEAD_BANDS, NON_SALE_STATUSES

#: Columns of :func:`plan_frame`'s frame, in order (``sales_8w`` last).
PLAN_COLUMNS = (
    "sku",
    "product",
    "category",
    "supplier",
    "platform",
    "action",
    "reason",
    "attention",
    "next_step",
    "revenue_at_risk",
    "currency",
    "on_hand",
    "reserved",
    "available",
    "burn_rate",
    "runway_days",
    "stockout_date",
    "lead_time_days",
    "lead_time_receipts",
    "review_days",
    "service_level",
    "reorder_threshold_days",
    "demand_protection",
    "order_up_to",
    "on_order",
    "on_order_in_time",
    "po_coverage",
    "required",
    "order_qty",
    "moq",
    "pack_size",
    "unit_price",
    "unit_cost",
    "exception",
    "excess_units",
    "money_tied_up",
    "model",
    "flags",
    "confidence",
    "sales_8w",
)


def _forecast_matrix(fc: pl.DataFrame, skus: list[str]) -> dict[str, np.ndarray]:
    """yhat/q05/q95 (and lead_q05..lead_q95 when the snapshot has them) as (len(skus) x H)
    matrices, zero rows for SKUs without a forecast."""
    h = int(fc["horizon"].max()) if fc.height else 28
    keys = ("yhat", "q05", "q95", *(k for k in LEAD_BANDS if k in fc.columns))
    out = {k: np.zeros((len(skus), h)) for k in keys}
    if fc.height:
        lookup = pl.DataFrame({"sku": skus, "row": np.arange(len(skus))})
        rows = fc.select("sku").join(lookup, on="sku", how="left", maintain_order="left")["row"]
        if rows.null_count():
            raise KeyError(f"forecast SKUs missing from the SKU list: {rows.null_count()}")
        rows = rows.to_numpy()
        cols = fc["horizon"].to_numpy() - 1
        for k in out:
            out[k][rows, cols] = fc[k].fill_null(np.nan).to_numpy()
    return out


def sales_facts(root: Path, as_of: date) -> pl.DataFrame:
    """Per SKU from the orders: unit_price (median on its last sale day), currency (its
    orders' most common ISO code, null if none), platform (most units), first_sale (Date of
    its first order), sales_8w (list of 8 weekly unit totals, oldest first, ending on
    ``as_of``)."""
    con = mapping_views.register(cached(root, as_of), workbench.engine(root))
    start = as_of - timedelta(days=55)
    sales = con.execute(
        """
        SELECT coalesce(product_sku, sku) AS sku, platform, order_ts::DATE AS day,
               quantity, unit_price, currency
        FROM orders_mapped WHERE NOT list_contains(?, status) AND order_ts::DATE <= ?
    """,
        [list(NON_SALE_STATUSES), as_of],
    ).pl()
    last = sales.filter(pl.col("day") == pl.col("day").max().over("sku"))
    price = last.group_by("sku").agg(
        pl.col("unit_price").median(), pl.col("currency").drop_nulls().mode().first()
    )
    first = sales.group_by("sku").agg(pl.col("day").min().alias("first_sale"))
    platform = (
        sales.group_by("sku", "platform")
        .agg(pl.col("quantity").sum())
        .sort(["quantity", "platform"], descending=[True, False])
        .group_by("sku", maintain_order=True)
        .agg(pl.col("platform").first())
    )
    weekly = (
        sales.filter(pl.col("day") >= start)
        .with_columns(((pl.col("day") - start).dt.total_days() // 7).alias("w"))
        .group_by("sku", "w")
        .agg(pl.col("quantity").sum())
    )
    grid = (
        price.select("sku")
        .join(pl.DataFrame({"w": list(range(8))}, schema={"w": weekly.schema["w"]}), how="cross")
        .join(weekly, on=["sku", "w"], how="left")
        .sort("sku", "w")
        .group_by("sku", maintain_order=True)
        .agg(pl.col("quantity").fill_null(0).cast(pl.Int32).alias("sales_8w"))
    )
    return price.join(platform, on="sku").join(first, on="sku").join(grid, on="sku", how="left")


@dataclass
class PlanInputs:
    """What the plan of one day reads: ``day`` (the forecasts' date); ``forecasts`` (the
    snapshot: sku, horizon, yhat, q05, q95, category, model, flags); ``stock`` (sku, on_hand,
    reserved: Int64 units, summed over locations); ``facts`` (:func:`sales_facts`);
    ``settings`` (per SKU, :func:`stockroom.procurement.repo.resolve`); ``open_pos`` (open PO
    lines: sku, quantity, expected_delivery); ``names`` (sku, product: the label people read,
    :func:`stockroom.products.labels`; the SKU itself where missing); ``lead_times`` (per
    supplier, :func:`stockroom.procurement.repo.supplier_lead_times`: the lead times its PO
    receipts show; None or no row = the lead-time setting alone)."""

    day: date
    forecasts: pl.DataFrame
    stock: pl.DataFrame
    facts: pl.DataFrame
    settings: pl.DataFrame
    open_pos: pl.DataFrame
    names: pl.DataFrame | None = None
    lead_times: pl.DataFrame | None = None


def stock_locations(root: Path, as_of: date | None = None) -> list[str]:
    """The locations of the stock snapshot on or before ``as_of`` (sorted; [] without one)."""
    day = store.resolve_as_of(root, "stock", as_of)
    if day is None:
        return []
    return sorted(store.read_snapshot(root, "stock", day)["location"].unique().to_list())


def load_inputs(root: Path, as_of: date | None = None, location: str | None = None) -> PlanInputs:
    """Read the plan's inputs as they stood on ``as_of`` (default: the latest forecasts
    snapshot's date; stock as of that day; settings, open POs and the suppliers' lead times
    from PO receipts as they stand now).
    ``location``: only that location's stock (what it covers of the whole demand); default
    every location, summed. Raises :class:`StockroomError` when there is no forecasts snapshot
    or the location is not in the stock snapshot (naming the ones that are)."""
    day = store.resolve_as_of(root, "forecasts", as_of)
    if day is None:
        raise StockroomError(f"no forecasts in {root}: run `stockroom forecast` first")
    fc = store.read_snapshot(root, "forecasts", day)
    stock_day = store.resolve_as_of(root, "stock", day)
    raw = store.read_snapshot(root, "stock", stock_day) if stock_day else None
    if location is not None:
        known = sorted(raw["location"].unique().to_list()) if raw is not None else []
        if location not in known:
            raise StockroomError(
                f"no stock at location {location!r} on {day}; locations: "
                + (", ".join(known) or "none")
            )
        raw = raw.filter(pl.col("location") == location)
    stock = (
        raw.group_by("sku").agg(
            pl.col("on_hand").sum().cast(pl.Int64),
            pl.col("reserved").sum().cast(pl.Int64),
            # the unit cost of the units on hand: weighted by location, null if none known
            pl.when(pl.col("on_hand").filter(pl.col("unit_cost").is_not_null()).sum() > 0)
            .then(
                (pl.col("unit_cost") * pl.col("on_hand")).sum()
                / pl.col("on_hand").filter(pl.col("unit_cost").is_not_null()).sum()
            )
            .otherwise(pl.col("unit_cost").mean())
            .alias("unit_cost"),
        )
        if raw is not None
        else pl.DataFrame(
            schema={
                "sku": pl.String,
                "on_hand": pl.Int64,
                "reserved": pl.Int64,
                "unit_cost": pl.Float64,
            }
        )
    )
    facts = sales_facts(root, day)
    skus = _sku_frame(fc, stock).join(facts, on="sku", how="left")
    eng = workbench.engine(root)
    return PlanInputs(
        day,
        fc,
        stock,
        facts,
        repo.resolve(eng, skus.select("sku", "platform")),
        repo.purchase_order_lines(eng, "open"),
        products.labels(skus.select("sku", "category"), root, day).select("sku", "product"),
        repo.supplier_lead_times(eng),
    )


def build_plan(
    root: Path, as_of: date | None = None, location: str | None = None
) -> tuple[date, pl.DataFrame]:
    """:func:`load_inputs` then :func:`plan_frame`: the plan's day and frame (of one
    ``location``'s stock, or all)."""
    inputs = load_inputs(root, as_of, location)
    return inputs.day, plan_frame(inputs)


def _sku_frame(fc: pl.DataFrame, stock: pl.DataFrame) -> pl.DataFrame:
    per_sku = fc.group_by("sku").agg(pl.col("category", "model", "flags").first())
    if "unit_cost" not in stock.columns:
        stock = stock.with_columns(pl.lit(None, pl.Float64).alias("unit_cost"))
    return (
        per_sku.join(stock, on="sku", how="full", coalesce=True)
        .with_columns(
            pl.col("on_hand", "reserved").fill_null(0),
            pl.col("category").fill_null("uncategorised"),
            pl.col("model").fill_null("none"),
            # in stock but never sold: nothing to forecast -- treated as dormant stock
            pl.col("flags").fill_null("dormant"),
        )
        .sort("sku")
    )


def _lead_times(
    skus: pl.DataFrame, lead_times: pl.DataFrame | None
) -> tuple[pl.DataFrame, np.ndarray]:
    """The lead time of every SKU as its supplier's receipts show it: (``skus`` with
    lead_time_days = the receipts' median where the supplier has enough of them, else the
    setting, and lead_time_receipts = how many received POs that is (0: the setting);
    n x K lead times, each row K equally likely values -- the receipts' quantiles, or the
    setting K times)."""
    k = repo.LEAD_POINTS
    setting = skus["lead_time_days"].to_numpy().astype(int)
    days = np.repeat(setting[:, None], k, axis=1)
    receipts = np.zeros(len(setting), dtype=np.int64)
    if lead_times is not None and lead_times.height:
        known = skus.select("supplier").join(
            lead_times, on="supplier", how="left", maintain_order="left"
        )
        for i, (count, values) in enumerate(
            zip(known["receipts"].to_list(), known["lead_days"].to_list(), strict=True)
        ):
            if count:
                days[i] = np.resize(np.asarray(values, dtype=int), k)
                receipts[i] = count
        median = known["median_days"].fill_null(0).to_numpy()
        setting = np.where(receipts > 0, median, setting)
    return (
        skus.with_columns(
            pl.Series("lead_time_days", setting, dtype=pl.Int64),
            pl.Series("lead_time_receipts", receipts, dtype=pl.Int64),
        ),
        days,
    )


def _targets(skus: pl.DataFrame) -> pl.DataFrame:
    """The target fill rate of every SKU: the setting where one was made (any level), else
    the newsvendor critical ratio where a holding cost rate is set and price and cost are
    known (:func:`policy.critical_ratio`), else the built-in 95 %."""
    if "holding_cost_rate" not in skus.columns:
        return skus
    ratio = policy.critical_ratio(
        skus["unit_price"].fill_null(np.nan).to_numpy(),
        skus["unit_cost"].fill_null(np.nan).to_numpy(),
        skus["holding_cost_rate"].fill_null(np.nan).to_numpy(),
        skus["review_days"].to_numpy(),
    )
    chosen = skus["service_level_set"].fill_null(True).to_numpy()
    level = skus["service_level"].to_numpy()
    return skus.with_columns(
        pl.Series("service_level", np.where(chosen | np.isnan(ratio), level, ratio))
    )


def recent_rate(skus: pl.DataFrame, day: date) -> np.ndarray:
    """Units sold per day over the :data:`policy.RECENT_DAYS` days ending on ``day`` (the
    last weeks of the ``sales_8w`` column of :func:`sales_facts`), one float per row of
    ``skus``; NaN for a SKU without orders or first sold under that many days before ``day``
    (a launch's weeks before it are not weeks without demand: its forecast stands alone)."""
    weeks = policy.RECENT_DAYS // 7
    if not {"sales_8w", "first_sale"} <= set(skus.columns):
        return np.full(skus.height, np.nan)
    recent = skus.select(
        pl.when(pl.col("first_sale") <= day - timedelta(days=policy.RECENT_DAYS - 1)).then(
            pl.col("sales_8w").list.slice(-weeks).list.sum().cast(pl.Float64) / (weeks * 7)
        )
    )
    return recent.to_series().fill_null(np.nan).to_numpy()


def plan_frame(inputs: PlanInputs) -> pl.DataFrame:
    """The plan (pure: frames in, frame out): one row per SKU with :data:`PLAN_COLUMNS` (units
    are units, days are days, money in the orders' currency), sorted by action then revenue at
    risk (largest first). Formulas: :mod:`stockroom.procurement.policy`; lists:
    :mod:`stockroom.procurement.actions`."""
    day, fc = inputs.day, inputs.forecasts
    names = inputs.names
    if names is None:
        names = pl.DataFrame(schema={"sku": pl.String, "product": pl.String})
    skus = (
        _sku_frame(fc, inputs.stock)
        .join(inputs.facts, on="sku", how="left")
        .join(inputs.settings, on="sku", how="left")
        .join(names, on="sku", how="left")
        .with_columns(pl.coalesce("product", "sku").alias("product"))
    )
    pos = inputs.open_pos
    ids = skus["sku"].to_list()
    m = _forecast_matrix(fc, ids)
    skus, lead_days = _lead_times(skus, inputs.lead_times)
    lead = skus["lead_time_days"].to_numpy()
    review = skus["review_days"].to_numpy()
    protection = lead_days + review[:, None]  # n x K equally likely protection periods
    due = (
        pos.join(skus.select("sku", "lead_time_days", "review_days"), on="sku")
        .with_columns((pl.col("expected_delivery") - pl.lit(day)).dt.total_days().alias("due_in"))
        .group_by("sku")
        .agg(
            pl.col("outstanding").sum().alias("on_order"),
            pl.col("outstanding")
            .filter(pl.col("due_in") <= pl.col("lead_time_days") + pl.col("review_days"))
            .sum()
            .alias("in_time"),
            pl.col("outstanding")
            .filter(pl.col("due_in") <= pl.col("lead_time_days"))
            .sum()
            .alias("by_lead"),
        )
    )
    due = skus.select("sku").join(due, on="sku", how="left").fill_null(0)
    on_order, on_order_in_time, on_order_by_lead = (
        due[c].to_numpy().astype(float) for c in ("on_order", "in_time", "by_lead")
    )
    on_hand = skus["on_hand"].to_numpy().astype(float)
    available = np.maximum(on_hand - skus["reserved"].to_numpy(), 0)
    skus = _targets(skus)
    mean_p, sigma_p, s = policy.order_up_to(
        m["yhat"],
        m["q05"],
        m["q95"],
        policy.lead_levels(m),
        protection,
        skus["service_level"].to_numpy(),
        unit_value=skus["unit_cost"].fill_null(skus["unit_price"]).to_numpy(),
        recent_rate=recent_rate(skus, day),
    )
    burn = policy.burn_rate(m["yhat"])
    runway = policy.runway_days(available, burn)
    out_in = policy.stockout_day(available, m["yhat"], burn)
    required = s - available - on_order_in_time
    moq = skus["moq"].to_numpy()
    pack = skus["pack_size"].to_numpy()
    order_qty = policy.round_order(required, moq, pack)
    coverage = policy.po_coverage(on_order_in_time, s, available)
    set_threshold = skus["reorder_threshold_days"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        derived = np.where(burn > 0, s / np.where(burn > 0, burn, 1), 0.0)
    threshold = np.where(np.isnan(set_threshold), derived, set_threshold)
    flags = skus["flags"].to_list()
    decision = actions.classify(
        required=required,
        runway=runway,
        threshold=threshold,
        on_order=on_order_in_time,
        coverage=coverage,
        moq=moq,
        on_hand=available,
        flags=flags,
    )
    price = skus["unit_price"].fill_null(0.0).to_numpy()
    risk = policy.revenue_at_risk(m["yhat"], available, on_order_by_lead, lead, price)
    # money tied up at cost where the stock records one, else at the last selling price
    value = skus["unit_cost"].fill_null(skus["unit_price"]).fill_null(0.0).to_numpy()
    exception, excess, tied_up = actions.exceptions(
        available=available,
        on_order=on_order,
        order_up_to=s,
        burn=burn,
        unit_value=value,
        flags=flags,
    )
    confidence = [
        "low"
        if ("low_confidence" in f or "cold_start" in f)
        else "none"
        if "dormant" in f
        else "normal"
        for f in flags
    ]
    frame = skus.with_columns(
        pl.Series("action", decision.action),
        pl.Series("reason", decision.reason, dtype=pl.String),
        pl.Series("attention", decision.attention, dtype=pl.String),
        pl.Series("next_step", decision.next_step, dtype=pl.String),
        pl.Series("revenue_at_risk", risk),
        pl.Series("exception", exception, dtype=pl.String),
        pl.Series("excess_units", excess),
        pl.Series("money_tied_up", tied_up),
        pl.Series("available", available.astype(np.int64)),
        pl.Series("burn_rate", burn),
        pl.Series("runway_days", runway),
        pl.Series(
            "stockout_date",
            [day + timedelta(days=int(d)) if np.isfinite(d) else None for d in out_in],
            dtype=pl.Date,
        ),
        pl.Series("reorder_threshold_days", threshold),
        pl.Series("demand_protection", mean_p),
        pl.Series("order_up_to", s),
        pl.Series("on_order", on_order.astype(np.int64)),
        pl.Series("on_order_in_time", on_order_in_time.astype(np.int64)),
        pl.Series("po_coverage", coverage),
        pl.Series("required", np.maximum(required, 0)),
        pl.Series("order_qty", order_qty.astype(np.int64)),
        pl.Series("confidence", confidence),
        pl.col("sales_8w").fill_null(pl.lit([0] * 8, dtype=pl.List(pl.Int32))),
    ).with_columns(pl.col("runway_days").replace(float("inf"), None))
    rank = {a: i for i, a in enumerate(actions.ACTIONS)}
    return (
        frame.select(PLAN_COLUMNS)
        .with_columns(pl.col("action").replace_strict(rank).alias("_rank"))
        .sort(["_rank", "revenue_at_risk", "sku"], descending=[False, True, False])
        .drop("_rank")
    )


#: The purchase-request CSV a purchasing system imports (one line per SKU to order).
EXPORT_COLUMNS = (
    "supplier",
    "sku",
    "quantity",
    "pack_size",
    "moq",
    "order_date",
    "expected_delivery",
    "need_by",
    "unit_price",
    "action",
    "reason",
)


def purchase_requests(plan: pl.DataFrame, day: date) -> pl.DataFrame:
    """The SKUs to order (order today, plus attention SKUs with a recommended quantity) as
    purchase-request lines: supplier, sku, quantity, pack_size, moq, order_date,
    expected_delivery (order date + lead time), need_by (stockout date), unit_price, action,
    reason; by supplier, then priority."""
    return (
        plan.filter(
            (pl.col("order_qty") > 0)
            & pl.col("action").is_in([actions.ORDER_TODAY, actions.ATTENTION])
        )
        .with_columns(
            pl.lit(day).alias("order_date"),
            (pl.lit(day) + pl.duration(days=pl.col("lead_time_days"))).alias("expected_delivery"),
            pl.col("order_qty").alias("quantity"),
            pl.col("stockout_date").alias("need_by"),
        )
        .sort(["supplier", "revenue_at_risk"], descending=[False, True])
        .select(EXPORT_COLUMNS)
    )
