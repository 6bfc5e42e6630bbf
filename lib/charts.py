"""Plotly figures shared by the pages and the notebooks (so both draw the same thing)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from lib.concentration import HHI_BANDS

_LAYOUT = dict(template="plotly_white", margin=dict(l=10, r=10, t=50, b=10), height=380,
               legend=dict(orientation="h", y=-0.15))


def short_id(seller_id: str, city: str | None = None) -> str:
    """A readable seller label: first 8 characters of the id, plus the city when known."""
    return f"{seller_id[:8]}…" + (f" ({city})" if city else "")


def concentration_trend(monthly: pl.DataFrame) -> go.Figure:
    """Monthly HHI (0-10,000, left axis) and CR4 (share, right axis); incomplete months are
    drawn as open markers. Input: :func:`lib.concentration.monthly`."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    symbols = ["circle" if c else "circle-open" for c in monthly["complete"].to_list()]
    fig.add_trace(go.Scatter(x=monthly["month"].to_list(), y=monthly["hhi"].to_list(),
                             name="HHI (0-10,000)", mode="lines+markers",
                             marker=dict(symbol=symbols, size=8)), secondary_y=False)
    fig.add_trace(go.Scatter(x=monthly["month"].to_list(), y=monthly["cr4"].to_list(),
                             name="CR4 (share)", mode="lines+markers", line=dict(dash="dot"),
                             marker=dict(symbol=symbols, size=7)), secondary_y=True)
    for upper, _label in HHI_BANDS[:-1]:
        fig.add_hline(y=upper, line=dict(color="grey", dash="dash", width=1))
    # log scale: early months with few sellers reach HHI 10,000 and would flatten the rest
    fig.update_yaxes(title_text="HHI (log scale)", type="log", secondary_y=False)
    fig.update_yaxes(title_text="CR4", tickformat=".0%", rangemode="tozero", secondary_y=True)
    fig.update_layout(title="Seller concentration by month<br><sup>dashed: HHI 1,000 and 1,800 "
                            "band limits · open marker: incomplete month</sup>",
                      **_LAYOUT)
    return fig


def top_sellers(sellers: pl.DataFrame, n: int = 20) -> go.Figure:
    """Horizontal bars of the ``n`` largest sellers' revenue share. Input:
    :func:`lib.concentration.seller_table`."""
    head = sellers.head(n).reverse()
    labels = [short_id(s, c) for s, c in zip(head["seller_id"], head["city"], strict=True)]
    fig = go.Figure(go.Bar(x=head["share"].to_list(), y=labels, orientation="h",
                           text=[f"{v:.1%}" for v in head["share"]], textposition="outside",
                           hovertext=head["seller_id"].to_list()))
    fig.update_xaxes(tickformat=".1%", title="share of revenue",
                     range=[0, (head["share"].max() or 0) * 1.25])
    fig.update_layout(title=f"Top {min(n, sellers.height)} sellers by revenue share",
                      **{**_LAYOUT, "height": max(300, 22 * head.height + 90)})
    return fig


def supply_trend(monthly: pl.DataFrame) -> go.Figure:
    """Monthly active sellers and products (left axis) and single-seller share (right axis).
    Input: :func:`lib.supply.monthly_supply`."""
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    x = monthly["month"].to_list()
    fig.add_trace(go.Bar(x=x, y=monthly["products"].to_list(), name="products sold",
                         opacity=0.6), secondary_y=False)
    fig.add_trace(go.Scatter(x=x, y=monthly["sellers"].to_list(), name="active sellers",
                             mode="lines+markers"), secondary_y=False)
    fig.add_trace(go.Scatter(x=x, y=monthly["single_seller_share"].to_list(),
                             name="single-seller share (supply risk)", mode="lines",
                             line=dict(dash="dot")), secondary_y=True)
    fig.update_yaxes(title_text="count", rangemode="tozero", secondary_y=False)
    fig.update_yaxes(title_text="share of products", tickformat=".0%", range=[0, 1.0],
                     dtick=0.2, showgrid=False, secondary_y=True)
    fig.update_layout(title="Supply by month", **_LAYOUT)
    return fig


def top_suppliers(suppliers: pl.DataFrame) -> go.Figure:
    """Stacked bars: SKUs each seller supplies alone vs. shares with others. Input:
    :func:`lib.supply.top_suppliers`."""
    head = suppliers.reverse()
    labels = [short_id(s) for s in head["seller_id"]]
    shared = (head["products"] - head["sole_supplier_of"]).to_list()
    fig = go.Figure([
        go.Bar(x=head["sole_supplier_of"].to_list(), y=labels, orientation="h",
               name="sole supplier", hovertext=head["seller_id"].to_list()),
        go.Bar(x=shared, y=labels, orientation="h", name="shared with other sellers"),
    ])
    fig.update_layout(barmode="stack", title="Top sellers by number of products supplied",
                      xaxis_title="distinct SKUs sold",
                      **{**_LAYOUT, "height": max(300, 22 * head.height + 90)})
    return fig


RUN_COLOURS = {"succeeded": "#2e7d32", "failed": "#c62828", "crashed": "#6a1b9a",
               "running": "#9e9e9e"}


def runs_per_day(daily: pl.DataFrame) -> go.Figure:
    """Stacked bars of job runs per day by status (input: ``lib.health.daily``)."""
    fig = go.Figure()
    for status, colour in RUN_COLOURS.items():
        part = daily.filter(pl.col("status") == status)
        if part.height:
            fig.add_bar(x=part["day"].to_list(), y=part["runs"].to_list(), name=status,
                        marker_color=colour)
    fig.update_layout(barmode="stack", height=300, margin=dict(l=10, r=10, t=40, b=10),
                      title="Job runs per day", yaxis_title="runs", legend_orientation="h")
    fig.update_xaxes(type="date", tickformat="%Y-%m-%d", dtick=86_400_000)
    return fig
