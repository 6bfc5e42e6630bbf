"""Plotly figures shared by the pages and the notebooks (so both draw the same thing).

Importing this module makes ``plotly_white`` plotly's default template (``pio.templates.
default``): a default template is attached without validation, where ``template=`` in each
layout deep-copies and validates it for every figure (12 ms against 0.8 ms a figure, on every
page rerun)."""

from __future__ import annotations

from datetime import timedelta

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from plotly.subplots import make_subplots

from stockroom.concentration import HHI_BANDS, MIN_CATEGORY_SHARE, MIN_MONTH_SELLERS

pio.templates.default = "plotly_white"
_LAYOUT = dict(
    margin=dict(l=10, r=10, t=50, b=10),
    height=380,
    legend=dict(orientation="h", y=-0.15),
)


#: Tick values of a log HHI axis, each labelled in full ("1,000", not "1k" or "2").
HHI_TICKS = (10, 20, 50, 100, 200, 500, 1_000, 1_800, 3_000, 5_000, 10_000)

#: Colours of the HHI bands (2023 US Merger Guidelines), lowest band first.
BAND_COLOURS = {
    "unconcentrated": "#2e7d32",
    "moderately concentrated": "#f9a825",
    "highly concentrated": "#c62828",
}


def concentration_trend(
    monthly: pl.DataFrame, min_sellers: int = MIN_MONTH_SELLERS, scope: str = ""
) -> go.Figure:
    """Monthly HHI (0-10,000, log left axis, ticks in full) and CR4 (share, right axis);
    incomplete months are drawn as open markers; months with fewer than ``min_sellers``
    sellers are left out (and counted in the subtitle). Input: :func:`stockroom.concentration.
    monthly` or :func:`~stockroom.concentration.monthly_across_categories` (``month``,
    ``hhi``, ``cr4``, ``sellers``, ``complete``); ``scope`` is added to the title."""
    shown = monthly.filter(pl.col("sellers") >= min_sellers)
    dropped = monthly.height - shown.height
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    symbols = ["circle" if c else "circle-open" for c in shown["complete"].to_list()]
    fig.add_trace(
        go.Scatter(
            x=shown["month"].to_list(),
            y=shown["hhi"].to_list(),
            name="HHI (0-10,000)",
            mode="lines+markers",
            marker=dict(symbol=symbols, size=8),
            hovertemplate="%{x|%b %Y}: HHI %{y:,.0f}<extra></extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=shown["month"].to_list(),
            y=shown["cr4"].to_list(),
            name="CR4 (share)",
            mode="lines+markers",
            line=dict(dash="dot"),
            marker=dict(symbol=symbols, size=7),
            hovertemplate="%{x|%b %Y}: CR4 %{y:.1%}<extra></extra>",
        ),
        secondary_y=True,
    )
    for upper, _label in HHI_BANDS[:-1]:
        fig.add_hline(y=upper, line=dict(color="grey", dash="dash", width=1))
    hhi = shown["hhi"].drop_nulls()
    low, high = (
        (min(float(hhi.min()), 1_000.0), max(float(hhi.max()), 1_800.0))
        if len(hhi)
        else (
            1_000.0,
            1_800.0,
        )
    )
    ticks = [t for t in HHI_TICKS if low / 1.5 <= t <= high * 1.5]
    # log scale: a few very concentrated months would flatten the rest on a linear axis
    fig.update_yaxes(
        title_text="HHI (log scale)",
        type="log",
        tickvals=ticks,
        ticktext=[f"{t:,}" for t in ticks],
        secondary_y=False,
    )
    fig.update_yaxes(
        title_text="CR4",
        tickformat=".0%",
        range=[0, 1.05],
        tickvals=[0, 0.25, 0.5, 0.75, 1],
        showgrid=False,
        secondary_y=True,
    )
    note = f"<br>{dropped} month(s) with < {min_sellers} sellers left out" if dropped else ""
    fig.update_layout(
        title=f"Seller concentration by month{scope}<br><sup>dashed: HHI 1,000 and 1,800 "
        f"band limits · open marker: incomplete month{note}</sup>",
        **{**_LAYOUT, "margin": dict(l=10, r=10, t=90 if note else 70, b=10)},
    )
    return fig


def category_hhi(categories: pl.DataFrame) -> go.Figure:
    """Horizontal bars of each category's HHI, coloured by its band, with the 1,000 and 1,800
    limits. Input: rows of :func:`stockroom.concentration.by_category` (``category_name``,
    ``hhi``, ``band``, ``sellers``, ``revenue_share``), drawn top to bottom in input order."""
    rows = categories.reverse()
    fig = go.Figure(
        go.Bar(
            x=rows["hhi"].to_list(),
            y=rows["category_name"].to_list(),
            orientation="h",
            marker_color=[BAND_COLOURS[b] for b in rows["band"].to_list()],
            text=[f"{v:,.0f}" for v in rows["hhi"]],
            textposition="outside",
            customdata=list(zip(rows["band"], rows["sellers"], rows["revenue_share"], strict=True)),
            hovertemplate="%{y}: HHI %{x:,.0f}, %{customdata[0]}<br>%{customdata[1]} sellers, "
            "%{customdata[2]:.1%} of revenue<extra></extra>",
        )
    )
    for upper, _label in HHI_BANDS[:-1]:
        fig.add_vline(x=upper, line=dict(color="grey", dash="dash", width=1))
    top = max(float(rows["hhi"].max() or 0), 1_800.0)
    fig.update_xaxes(title="HHI (0-10,000)", range=[0, top * 1.2], tickformat=",")
    fig.update_layout(
        title=f"Most concentrated categories<br><sup>categories with at least "
        f"{MIN_CATEGORY_SHARE:.0%} of revenue<br>red: highly, amber: moderately concentrated "
        "(dashed: 1,000 and 1,800)</sup>",
        **{
            **_LAYOUT,
            "height": max(300, 30 * rows.height + 130),
            "margin": dict(l=10, r=10, t=90, b=10),
        },
    )
    return fig


def top_sellers(sellers: pl.DataFrame, n: int = 20) -> go.Figure:
    """Horizontal bars of the ``n`` largest sellers' revenue share. Input:
    :func:`stockroom.concentration.seller_table`."""
    head = sellers.head(n).reverse()
    labels = head["seller"].to_list()
    fig = go.Figure(
        go.Bar(
            x=head["share"].to_list(),
            y=labels,
            orientation="h",
            text=[f"{v:.1%}" for v in head["share"]],
            textposition="outside",
            hovertext=head["seller_id"].to_list(),
        )
    )
    fig.update_xaxes(
        tickformat=".1%", title="share of revenue", range=[0, (head["share"].max() or 0) * 1.25]
    )
    fig.update_layout(
        title=f"Top {min(n, sellers.height)} sellers by revenue share",
        **{**_LAYOUT, "height": max(300, 22 * head.height + 90)},
    )
    return fig


def supply_trend(monthly: pl.DataFrame) -> go.Figure:
    """Monthly active sellers and products (left axis) and single-seller share (right axis).
    Input: :func:`stockroom.supply.monthly_supply`."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    x = monthly["month"].to_list()
    fig.add_trace(
        go.Bar(x=x, y=monthly["products"].to_list(), name="products sold", opacity=0.6),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=x, y=monthly["sellers"].to_list(), name="active sellers", mode="lines+markers"
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=monthly["single_seller_share"].to_list(),
            name="single-seller share (supply risk)",
            mode="lines",
            line=dict(dash="dot"),
        ),
        secondary_y=True,
    )
    fig.update_yaxes(title_text="count", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(
        title_text="share of products",
        tickformat=".0%",
        range=[0, 1.0],
        dtick=0.2,
        showgrid=False,
        secondary_y=True,
    )
    fig.update_layout(title="Supply by month", **_LAYOUT)
    return fig


def top_suppliers(suppliers: pl.DataFrame) -> go.Figure:
    """Stacked bars: SKUs each seller supplies alone vs. shares with others. Input:
    :func:`stockroom.supply.top_suppliers`."""
    head = suppliers.reverse()
    labels = head["seller"].to_list()
    shared = (head["products"] - head["sole_supplier_of"]).to_list()
    fig = go.Figure(
        [
            go.Bar(
                x=head["sole_supplier_of"].to_list(),
                y=labels,
                orientation="h",
                name="sole supplier",
                hovertext=head["seller_id"].to_list(),
            ),
            go.Bar(x=shared, y=labels, orientation="h", name="shared with other sellers"),
        ]
    )
    fig.update_layout(
        barmode="stack",
        title="Top sellers by number of products supplied",
        xaxis_title="distinct SKUs sold",
        **{**_LAYOUT, "height": max(300, 22 * head.height + 90)},
    )
    return fig


def holdings_trend(daily: pl.DataFrame, currency: str, top: int = 6) -> go.Figure:
    """Stacked areas: the value on the market per day of the ``top`` Sellers (by value on the
    last day) and of all others together. Input: :func:`stockroom.holdings.daily` with
    :func:`stockroom.holdings.with_seller_names`; ``currency`` labels the axis."""
    last = daily.filter(pl.col("day") == daily["day"].max())
    leaders = last.sort("value", descending=True).head(top)["seller_id"].to_list()
    grouped = (
        daily.with_columns(
            who=pl.when(pl.col("seller_id").is_in(leaders))
            .then(pl.col("seller"))
            .otherwise(pl.lit("All other sellers"))
        )
        .group_by("day", "who")
        .agg(pl.col("value", "units").sum())
        .sort("day")
    )
    order = [
        *last.filter(pl.col("seller_id").is_in(leaders))
        .sort("value", descending=True)["seller"]
        .to_list(),
        "All other sellers",
    ]
    fig = go.Figure()
    for who in order:
        part = grouped.filter(pl.col("who") == who)
        if part.is_empty():
            continue
        fig.add_trace(
            go.Scatter(
                x=part["day"].to_list(),
                y=part["value"].to_list(),
                customdata=part["units"].to_list(),
                name=who,
                mode="lines",
                stackgroup="value",
                hovertemplate="%{x}: %{y:,.0f} " + currency + " (%{customdata:,} units)",
            )
        )
    fig.update_yaxes(title_text=f"value at lowest ask ({currency})", rangemode="tozero")
    fig.update_layout(title="Value on the market by Seller", **_LAYOUT)
    return fig


def holdings_by_treatment(risk: pl.DataFrame, currency: str) -> go.Figure:
    """Horizontal stacked bars: value on the market per treatment, in products a single
    Seller holds vs. products several hold. Input: :func:`stockroom.holdings.product_risk`."""
    per = (
        risk.with_columns(
            pl.col("treatment").fill_null(
                pl.when(pl.col("sku_mapped"))
                .then(pl.lit("(no treatment)"))
                .otherwise(pl.lit("(SKU not mapped)"))
            )
        )
        .group_by("treatment")
        .agg(
            single=pl.col("value").filter(pl.col("single_seller")).sum(),
            shared=pl.col("value").filter(~pl.col("single_seller")).sum(),
            total=pl.col("value").sum(),
        )
        .sort("total")
        .tail(12)
    )
    labels = per["treatment"].to_list()
    fig = go.Figure(
        [
            go.Bar(
                x=per["single"].to_list(),
                y=labels,
                orientation="h",
                name="one Seller holds it",
                marker_color=BAND_COLOURS["highly concentrated"],
            ),
            go.Bar(
                x=per["shared"].to_list(),
                y=labels,
                orientation="h",
                name="several Sellers hold it",
                marker_color=BAND_COLOURS["unconcentrated"],
            ),
        ]
    )
    fig.update_layout(
        barmode="stack",
        title="Value by treatment: single-seller risk",
        xaxis_title=f"value at lowest ask ({currency})",
        **{**_LAYOUT, "height": max(300, 26 * per.height + 120)},
    )
    return fig


RUN_COLOURS = {
    "succeeded": "#2e7d32",
    "failed": "#c62828",
    "crashed": "#6a1b9a",
    "running": "#9e9e9e",
}


def runs_per_day(daily: pl.DataFrame) -> go.Figure:
    """Stacked bars of job runs per day by status (input: ``stockroom.health.daily``)."""
    fig = go.Figure()
    for status, colour in RUN_COLOURS.items():
        part = daily.filter(pl.col("status") == status)
        if part.height:
            fig.add_bar(
                x=part["day"].to_list(), y=part["runs"].to_list(), name=status, marker_color=colour
            )
    fig.update_layout(
        barmode="stack",
        height=300,
        margin=dict(l=10, r=10, t=40, b=10),
        title="Job runs per day",
        yaxis_title="runs",
        legend_orientation="h",
    )
    fig.update_xaxes(type="date", tickformat="%Y-%m-%d", dtick=86_400_000)
    return fig


def sku_forecast(
    history: pl.DataFrame, forecast: pl.DataFrame, product: str, backtest_days: int | None = None
) -> go.Figure:
    """Daily units sold (bars) and the forecast (line) with its 50 % (q25-q75) and 90 %
    (q05-q95) bands, titled with ``product`` (the name a buyer knows the SKU by).
    ``history``: date, units (zero-filled days); ``forecast``: the SKU's
    rows of the ``forecasts`` snapshot (target_date, yhat, q05..q95). ``backtest_days`` shades
    the backtest window (the days before the as-of date the model was scored on)."""
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            x=history["date"].to_list(),
            y=history["units"].to_list(),
            name="units sold",
            marker_color="#9aa5b1",
        )
    )
    x = forecast["target_date"].to_list()
    for lo, hi, name, alpha in (
        ("q05", "q95", "90 % interval", 0.15),
        ("q25", "q75", "50 % interval", 0.3),
    ):
        if forecast[lo].null_count() == forecast.height:
            continue
        fig.add_trace(
            go.Scatter(
                x=x + x[::-1],
                y=forecast[hi].to_list() + forecast[lo].to_list()[::-1],
                fill="toself",
                fillcolor=f"rgba(31,119,180,{alpha})",
                line=dict(width=0),
                name=name,
                hoverinfo="skip",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=forecast["yhat"].to_list(),
            name="forecast",
            mode="lines",
            line=dict(color="#1f77b4", width=2),
        )
    )
    if backtest_days and history.height:
        end = history["date"].max()
        fig.add_vrect(
            x0=end - timedelta(days=backtest_days - 1),
            x1=end,
            fillcolor="orange",
            opacity=0.08,
            line_width=0,
            annotation_text="backtest window",
            annotation_position="top left",
        )
    fig.update_yaxes(title_text="units/day", rangemode="tozero")
    fig.update_layout(title=f"{product}: sales and forecast", bargap=0.1, **_LAYOUT)
    return fig


def forecast_drivers(drivers: pl.DataFrame) -> go.Figure:
    """Horizontal bars of SHAP effects on the first forecast day as multiplicative factors
    (x1.25 = +25 %). Input: :func:`stockroom.forecast.views.drivers`."""
    head = drivers.reverse()
    pct = [(e - 1) for e in head["effect"].to_list()]
    fig = go.Figure(
        go.Bar(
            x=pct,
            y=head["label"].to_list(),
            orientation="h",
            marker_color=["#2ca02c" if v >= 0 else "#d62728" for v in pct],
            text=[f"×{e:.2f}" for e in head["effect"]],
            textposition="auto",
        )
    )
    fig.update_xaxes(tickformat="+.0%", title="effect on the forecast", zeroline=True)
    fig.update_layout(
        title="Why: top drivers of tomorrow's forecast<br><sup>XGBoost SHAP "
        "values; ×1.25 = 25 % more than without it</sup>",
        **{**_LAYOUT, "height": 300},
    )
    return fig


def bench_accuracy(bench: pl.DataFrame) -> go.Figure:
    """WRMSSE per model (bars, lower is better) per dataset, from
    :func:`stockroom.forecast.views.load_bench`; each dataset's seasonal naive is dashed."""
    fig = go.Figure()
    for dataset in bench["dataset"].unique(maintain_order=True).to_list():
        part = bench.filter(pl.col("dataset") == dataset, pl.col("wrmsse").is_not_null())
        fig.add_trace(
            go.Bar(
                x=part["model"].to_list(),
                y=part["wrmsse"].to_list(),
                name=dataset,
                text=[f"{v:.3f}" for v in part["wrmsse"]],
                textposition="outside",
            )
        )
    fig.update_yaxes(title_text="WRMSSE (lower is better)", rangemode="tozero")
    fig.update_layout(title="Backtest accuracy by model", barmode="group", **_LAYOUT)
    return fig


def flags_by_type(counts: pl.DataFrame) -> go.Figure:
    """Stacked bars of open flags per type, one colour per platform. Input:
    :func:`stockroom.reconcile.views.by_type_and_platform`."""
    fig = go.Figure()
    for platform in sorted(counts["platform"].unique().to_list()):
        part = counts.filter(pl.col("platform") == platform)
        fig.add_trace(
            go.Bar(x=part["flag_type"].to_list(), y=part["flags"].to_list(), name=platform)
        )
    fig.update_layout(title="Open flags by type and platform", barmode="stack", **_LAYOUT)
    fig.update_yaxes(title_text="open flags")
    return fig


def flags_trend(trend: pl.DataFrame) -> go.Figure:
    """Open flags per sync date, stacked by type (one bar per sync, so a single sync still
    reads). Input: :func:`stockroom.reconcile.views.trend`."""
    fig = go.Figure()
    for flag_type in sorted(trend["flag_type"].unique().to_list()):
        part = trend.filter(pl.col("flag_type") == flag_type).sort("date")
        fig.add_trace(
            go.Bar(
                x=[d.isoformat() for d in part["date"]], y=part["flags"].to_list(), name=flag_type
            )
        )
    fig.update_layout(title="Open flags per sync", barmode="stack", **_LAYOUT)
    fig.update_xaxes(type="category", title_text="sync date")
    fig.update_yaxes(title_text="open flags", rangemode="tozero")
    return fig


#: one colour per market platform, the same on every market chart
PLATFORM_COLOURS = {
    "stockx": "#0a7d4b",
    "alias": "#6a1b9a",
    "goat": "#37474f",
    "ebay": "#1565c0",
    "shootstrayt": "#ef6c00",
    "pricecharting": "#8d6e63",
    "etsy": "#f4511e",
    "facebook": "#3949ab",
    "shop": "#00897b",
}


def market_history(history: pl.DataFrame, currency: str, title: str = "") -> go.Figure:
    """One item's lowest ask per platform (solid) and what selling at it nets after that
    platform's fees (dotted, same colour), per day; our own ask as dashes where we list it.
    Input: :func:`stockroom.market.views.history` (``day``, ``platform``, ``lowest_ask``,
    ``net_lowest_ask``, ``ask_price``); ``currency`` labels the axis."""
    lines = (  # column, legend label, line style, hover label
        ("lowest_ask", "{} lowest ask", dict(width=2), "lowest ask"),
        ("net_lowest_ask", "{} net after fees", dict(width=1, dash="dot"), "net"),
        ("ask_price", "our ask on {}", dict(width=3, dash="dash"), "our ask"),
    )
    fig = go.Figure()
    for platform in sorted(history["platform"].unique().to_list()):
        part = history.filter(pl.col("platform") == platform).sort("day")
        for column, label, style, hover in lines:
            if part[column].is_null().all():
                continue
            fig.add_trace(
                go.Scatter(
                    x=part["day"].to_list(),
                    y=part[column].to_list(),
                    name=label.format(platform),
                    mode="lines",
                    line=dict(color=PLATFORM_COLOURS.get(platform), **style),
                    legendgroup=platform,
                    hovertemplate=f"%{{x}}: {hover} %{{y:,.2f}} {currency}"
                    f"<extra>{platform}</extra>",
                )
            )
    fig.update_yaxes(title_text=f"price per unit ({currency})")
    fig.update_layout(title=title or "Price history per platform", **_LAYOUT)
    return fig


def best_platform_split(best: pl.DataFrame) -> go.Figure:
    """Horizontal bars: how many items each platform is the best place to sell (after fees).
    Input: :func:`stockroom.market.views.best_platform`."""
    counts = best.group_by("best_platform").len().sort("len")
    fig = go.Figure(
        go.Bar(
            x=counts["len"].to_list(),
            y=counts["best_platform"].to_list(),
            orientation="h",
            marker_color=[PLATFORM_COLOURS.get(p) for p in counts["best_platform"].to_list()],
            hovertemplate="%{y}: best for %{x:,} items<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="items where it nets the most (after the tie rule)")
    fig.update_layout(title="Best platform after fees", **{**_LAYOUT, "height": 300})
    return fig


#: aging buckets from fresh (green) to stale (red)
AGING_COLOURS = ("#2e7d32", "#7cb342", "#f9a825", "#ef6c00", "#c62828")


def resale_aging(aging: pl.DataFrame, currency: str | None) -> go.Figure:
    """Bars: the cost tied up in unsold items per age bucket (fresh to stale), each labelled
    with its item count. Input: :func:`stockroom.resale.pnl.aging`."""
    n = aging.height
    colours = [AGING_COLOURS[round(i * (len(AGING_COLOURS) - 1) / max(n - 1, 1))] for i in range(n)]
    fig = go.Figure(
        go.Bar(
            x=aging["bucket"].to_list(),
            y=aging["cost"].to_list(),
            marker_color=colours,
            text=[f"{i:,} items" for i in aging["items"].to_list()],
            textposition="outside",
            hovertemplate=f"%{{x}}: %{{y:,.2f}} {currency or ''} tied up<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="days since acquisition")
    fig.update_yaxes(title_text=f"cost tied up ({currency or 'money'})", rangemode="tozero")
    fig.update_layout(title="Unsold stock by age", **{**_LAYOUT, "height": 320})
    return fig


def resale_roi_by(perf: pl.DataFrame, by: str, currency: str | None) -> go.Figure:
    """Horizontal bars: ROI (net profit / cost of the items sold) per platform or category,
    each labelled with its net profit and items sold (a platform selling a hundred times more
    does not hide the others). Input: :func:`stockroom.resale.pnl.performance`."""
    rows = perf.filter(pl.col("sold") > 0).sort("roi", nulls_last=False)
    keys = rows[by].to_list()
    colours = [PLATFORM_COLOURS.get(k, "#546e7a") for k in keys] if by == "platform" else None
    fig = go.Figure(
        go.Bar(
            x=(rows["roi"] * 100).to_list(),
            y=keys,
            orientation="h",
            marker_color=colours,
            text=[
                f"{p:,.0f} {currency or ''} on {n:,} sold"
                for p, n in zip(rows["profit"].to_list(), rows["sold"].to_list(), strict=True)
            ],
            textposition="auto",
            hovertemplate="%{y}: ROI %{x:.0f}%, %{text}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="ROI of the items sold (%)", rangemode="tozero")
    fig.update_layout(title=f"Return by {by}", **{**_LAYOUT, "height": 320})
    return fig


def resale_roi_distribution(pnl: pl.DataFrame, title: str = "ROI of the items sold") -> go.Figure:
    """Histogram of the ROI (net profit / cost, in %) of sold items, clipped to [-100 %,
    500 %] with the median marked. Input: :func:`stockroom.resale.pnl.item_pnl`."""
    roi = pnl.filter(pl.col("roi").is_not_null())["roi"].clip(-1.0, 5.0) * 100
    fig = go.Figure(
        go.Histogram(
            x=roi.to_list(),
            xbins=dict(start=-100, end=500, size=10),
            marker_color="#1565c0",
            hovertemplate="ROI %{x}%: %{y:,} items<extra></extra>",
        )
    )
    if roi.len():
        fig.add_vline(
            x=roi.median(),
            line_dash="dash",
            annotation_text=f"median {roi.median():.0f} %",
            annotation_position="top right",
        )
    fig.update_xaxes(title_text="ROI (%), clipped at 500 %")
    fig.update_yaxes(title_text="items")
    fig.update_layout(title=title, **{**_LAYOUT, "height": 320})
    return fig


def resale_price_history(history: pl.DataFrame, currency: str | None) -> go.Figure:
    """Steps: an item's list price per platform and its estimated value over time, each
    change's reason in the hover. Input: :func:`stockroom.resale.repo.price_history`."""
    fig = go.Figure()
    series = history.with_columns(
        pl.when(pl.col("field") == "estimated_value")
        .then(pl.lit("estimated value"))
        .otherwise(pl.concat_str(pl.lit("list price on "), pl.col("platform")))
        .alias("series")
    )
    for name in sorted(series["series"].unique().to_list()):
        part = series.filter(pl.col("series") == name).sort("changed_at")
        platform = name.removeprefix("list price on ")
        fig.add_trace(
            go.Scatter(
                x=part["changed_at"].to_list(),
                y=part["new_value"].to_list(),
                name=name,
                mode="lines+markers",
                line=dict(shape="hv", color=PLATFORM_COLOURS.get(platform)),
                customdata=part.select("actor", "reason").rows(),
                hovertemplate=f"%{{x}}: %{{y:,.2f}} {currency or ''} by %{{customdata[0]}}: "
                "%{customdata[1]}<extra></extra>",
            )
        )
    fig.update_yaxes(title_text=f"price ({currency or 'money'})")
    fig.update_layout(title="Price history", **{**_LAYOUT, "height": 300})
    return fig
