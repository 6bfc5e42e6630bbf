"""Shared page plumbing: the sidebar filters and tables with downloads.

The page pattern: every page starts from :func:`filters` (data root, store stamp, as-of,
window, category) and reads through the typed, cached functions of :mod:`app_pages._data`,
keyed by those filters; every number comes from the library.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import streamlit as st

from app_pages import _access
from stockroom import config, export, products, sales, store, tenancy
from stockroom.db import cached

WINDOWS = {"30 days": 30, "90 days": 90, "180 days": 180, "365 days": 365, "All history": None}
ALL_CATEGORIES = "All categories"
ALL_PLATFORMS = "All platforms"


@dataclass(frozen=True)
class Filters:
    data_root: str
    stamp: str
    first_day: date
    as_of: date
    window_days: int | None
    category: str | None
    platform: str | None = None  # one marketplace's orders and listings (None: every one)

    @property
    def day(self) -> Filters:
        """These filters without window, category and platform: the cache key of what depends
        only on the data root, the store and the as-of date (forecasts, the plan, flags,
        mappings), so changing the window does not rebuild them."""
        return dataclasses.replace(self, window_days=None, category=None, platform=None)

    @property
    def any_window(self) -> Filters:
        """These filters without the window (the key of what spans all history to as-of)."""
        return dataclasses.replace(self, window_days=None)

    @property
    def all_categories(self) -> Filters:
        """These filters for every category (the key of frames a category filters)."""
        return dataclasses.replace(self, category=None)

    @property
    def window(self) -> sales.Window:
        return sales.make_window(self.as_of, self.window_days, self.first_day)

    @property
    def previous_window(self) -> sales.Window | None:
        """The window of the same length just before :attr:`window` (None for all history)."""
        if self.window_days is None:
            return None
        return sales.make_window(self.window.start.date() - timedelta(days=1), self.window_days)


@st.cache_data(show_spinner=False, max_entries=64)
def _categories(
    root: str, stamp: str, as_of: date, window_days: int | None, first_day: date
) -> list[str]:
    con = cached(Path(root), as_of)
    return sales.categories(con, sales.make_window(as_of, window_days, first_day))


@st.cache_data(show_spinner=False, max_entries=64)
def _platforms(root: str, stamp: str, as_of: date) -> list[str]:
    """Platforms with orders or listings on or before ``as_of``."""
    con = cached(Path(root), as_of)
    rows = con.execute(
        "SELECT platform FROM orders UNION SELECT platform FROM listings_history "
        "WHERE snapshot_date <= $as_of ORDER BY 1",
        {"as_of": as_of},
    ).fetchall()
    return [r[0] for r in rows if r[0]]


def _kept_select(label: str, key: str, options: list[str], **kwargs) -> str:
    """A sidebar selectbox whose current choice stays an option even when the data no
    longer lists it (a window change never resets the category)."""
    chosen = st.session_state.get(key, options[0])
    if chosen not in options:
        options = [*options, chosen]
    return st.selectbox(label, options, key=key, **kwargs)


def _keep(*keys: str) -> None:
    """Keep these widgets' values while a page that does not show them is open (Streamlit
    drops the state of a widget not drawn in a run; re-assigning it keeps it)."""
    for key in keys:
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def identity() -> _access.Identity:
    """The session's person, company and role (set by ``app.py`` from the sign-in gate)."""
    return st.session_state["identity"]


def _root_banner(root: str) -> None:
    """Say so, with a way back, when the data root is not the company's own (a demo button
    switches it for the whole session; laptop mode only)."""
    default = str(config.company_root(identity().company_id))
    if Path(root).resolve() == Path(default).resolve():
        return
    text, back = st.columns([5, 1], vertical_alignment="center")
    text.info(
        f"Showing the data root **{root}**, not the configured {default}: every page reads it "
        "until you switch back.",
        icon=":material/folder_open:",
    )
    back.button(
        "Back to the configured data",
        icon=":material/undo:",
        on_click=lambda: st.session_state.update({"data-root": default}),
        key="data-root-back",
    )


def sidebar(honours: tuple[str, ...] = ("window", "category")) -> Filters | None:
    """Render the shared sidebar; None (and a hint on the page) when the store has no orders.

    ``honours``: the filters the open page applies ("window", "category", "platform"); the
    others are not shown (their choice is kept for the pages that do), and the filters carry
    the default window (:data:`stockroom.config.DEFAULT_WINDOW_DAYS`), every category and
    every platform. The platform filter is shown only where the data has two or more."""
    _keep("window", "category", "platform")
    root = identity().root  # the chosen company's (no free-text path: see _access)
    st.session_state["data_root"] = root
    _root_banner(root)
    with st.sidebar:
        days = store.snapshot_dates(Path(root), "orders")
        if not days:
            return None
        as_of = st.date_input(
            "As of",
            value=days[-1],
            min_value=days[0],
            max_value=days[-1],
            help="Read the snapshots as they stood on this date.",
        )
        window_days = config.DEFAULT_WINDOW_DAYS
        if "window" in honours:
            default = next(k for k, v in WINDOWS.items() if v == config.DEFAULT_WINDOW_DAYS)
            st.session_state.setdefault("window", default)
            label = st.selectbox(
                "Window",
                list(WINDOWS),
                key="window",
                help="Days of sales ending on the as-of date.",
            )
            window_days = WINDOWS[label]
        category = None
        if "category" in honours:
            stamp = store.stamp(Path(root))
            # categories with sales in the window (all history where the page has no window);
            # a chosen category stays listed when the window changes, so it is never reset
            cats = _categories(
                root, stamp, as_of, window_days if "window" in honours else None, days[0]
            )
            category = _kept_select(
                "Category",
                "category",
                [ALL_CATEGORIES, *cats],
                format_func=lambda c: c if c == ALL_CATEGORIES else products.words(c),
                help="Product category (largest revenue first).",
            )
        platform = None
        if "platform" in honours:
            platforms = _platforms(root, store.stamp(Path(root)), as_of)
            if len(platforms) > 1:
                platform = _kept_select(
                    "Platform",
                    "platform",
                    [ALL_PLATFORMS, *platforms],
                    help="One marketplace's orders and listings; its sellers' shares are "
                    "of that platform's revenue.",
                )
        st.caption(f"Orders on file: {days[0]} to {days[-1]}")
    return Filters(
        root,
        store.stamp(Path(root)),
        days[0],
        as_of,
        window_days,
        None if category in (None, ALL_CATEGORIES) else category,
        None if platform in (None, ALL_PLATFORMS) else platform,
    )


def signer(action: str, permission: tenancy.Action) -> str | None:
    """Who signs this session's decisions to ``action`` in the audit log, or None (the page's
    decision buttons then stay disabled, and the page says why).

    Signed in: the person's email, when their role may take ``permission``
    (:data:`stockroom.tenancy.PERMISSIONS`); otherwise None and a note naming the roles that
    may. Laptop mode: a name typed once in the sidebar and kept for the session."""
    who = identity()
    if who.signed_in:
        if who.may(permission):
            return who.email
        st.info(
            tenancy.refusal(who.role, permission),
            icon=":material/visibility:",
        )
        return None
    name = st.sidebar.text_input(
        "Your name (signs your decisions)",
        value=st.session_state.get("signer_name", ""),
        key="signer_input",
        placeholder="e.g. Ana Costa",
        max_chars=120,
    ).strip()
    st.session_state["signer_name"] = name
    if not name:
        st.warning(f"Enter your name in the sidebar to {action}: every decision is signed.")
    return name or None


def signed(permission: tenancy.Action) -> str | None:
    """:func:`signer`'s answer without drawing anything (for a second place on a page that
    already drew the sidebar's name field): the person's email when their role may take
    ``permission``, the typed name on the laptop, else None."""
    who = identity()
    if who.signed_in:
        return who.email if who.may(permission) else None
    return (st.session_state.get("signer_input") or "").strip() or None


def may_export() -> bool:
    """Whether the session's role may download exports (viewers may not)."""
    return identity().may("export")


def filters(need_orders: bool = True) -> Filters:
    """The sidebar's filters. Without order snapshots, stop the page with a hint, or (with
    ``need_orders`` False: pages about the workbench itself, such as Data health) return
    filters for the data root as of today."""
    current = st.session_state.get("filters")
    if current is None and need_orders:
        st.info(
            "No order snapshots in this data root yet. Land the bundled real data with "
            "`stockroom ingest olist`, then reload."
        )
        st.stop()
    if current is None:
        root = st.session_state.get("data_root") or str(config.data_root())
        today = date.today()
        return Filters(root, store.stamp(Path(root)), today, today, None, None)
    return current


def price_range(
    low_column, high_column, what: str, currency: str, key: str
) -> tuple[float | None, float | None]:
    """Two number inputs, "<what> from" and "up to" (in ``currency``), empty by default: the
    inclusive price range a table filter applies (None: open)."""
    low = low_column.number_input(
        f"{what} from ({currency})", min_value=0.0, value=None, key=f"{key}-price-min"
    )
    high = high_column.number_input(
        f"{what} up to ({currency})", min_value=0.0, value=None, key=f"{key}-price-max"
    )
    return low, high


def delta(current: dict, previous: dict | None, key: str, fmt: str) -> str | None:
    """Change vs. the previous window of the same length, formatted, or None."""
    if not previous or previous.get(key) is None or current.get(key) is None:
        return None
    return format(current[key] - previous[key], fmt)


def delta_points(current: dict, previous: dict | None, key: str) -> str | None:
    """Change of a share (0-1) vs. the previous window in percentage points ("+1.2 pp"): a
    CR4 going from 40 % to 38 % moved -2.0 pp, not -5 %."""
    if not previous or previous.get(key) is None or current.get(key) is None:
        return None
    return f"{100 * (current[key] - previous[key]):+.1f} pp"


_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_with_downloads(
    frame: pl.DataFrame,
    *,
    name: str,
    column_config: dict,
    caption: str | None = None,
    show: int | None = None,
) -> None:
    """Show ``frame`` and offer it as CSV, Excel and Parquet downloads (encoded when the button is
    clicked, not on every rerun). With ``show``, only its first ``show`` rows go to the
    browser (every rerun sends what is shown) and the downloads hold the whole frame; the
    caption then says so. A ``category`` column is shown in words (the downloads keep the
    keys)."""
    shown = frame if show is None else frame.head(show)
    if show is not None and frame.height > shown.height:
        first = f"First {shown.height:,} of {frame.height:,} rows shown; the downloads hold all."
        caption = f"{first} {caption}" if caption else first
    if "category" in shown.columns and "category_name" not in shown.columns:
        # categories in words on screen ("Office furniture"); the downloads keep the keys
        shown = shown.with_columns(products.category_words(pl.col("category")))
    st.dataframe(shown, column_config=column_config, hide_index=True, width="stretch")
    if not may_export():  # "... cannot download exports and reports: that needs ..."
        st.caption((f"{caption} " if caption else "") + tenancy.refusal(identity().role, "export"))
        return
    *buttons, note = st.columns([1, 1, 1, 3])
    formats = (  # label, encoder (run when clicked), extension, MIME type, help
        ("CSV", export.write_csv, "csv", "text/csv", "formula-like cells are written as text"),
        ("Excel", export.write_excel, "xlsx", _XLSX, "an Excel workbook, values only"),
        (
            "Parquet",
            export.write_parquet,
            "parquet",
            "application/vnd.apache.parquet",
            "typed columns",
        ),
    )
    for column, (label, encode, ext, mime, note_text) in zip(buttons, formats, strict=True):
        column.download_button(
            label,
            lambda encode=encode: encode(frame),
            f"{name}.{ext}",
            mime,
            key=f"{name}-{ext}",
            icon=":material/download:",
            help=f"Download every row as {label} ({note_text})",
        )
    if caption:
        note.caption(caption)


def provenance(snapshots: pl.DataFrame, table: str, daily: dict, step: str) -> None:
    """When and by which run the page's ``table`` snapshot was computed (from its manifest,
    ``snapshots`` = :func:`stockroom.health.snapshots_as_of`), and a warning when the latest
    `stockroom daily` did not complete ``step`` (or what it depends on): the page then shows
    the last results that succeeded, marked stale."""
    row = snapshots.filter(pl.col("table") == table)
    if row.height and row["snapshot"][0] is not None:
        r = row.row(0, named=True)
        written = f"{r['written_at']:%Y-%m-%d %H:%M} UTC" if r["written_at"] else "unknown time"
        st.caption(f"{table} snapshot of {r['snapshot']}: computed {written} by run {r['run_id']}")
    steps = {s["step"]: s for s in daily.get("steps", [])}
    mine = steps.get(step)
    if daily.get("day") and mine and mine["status"] in ("failed", "skipped"):
        broken = [s for s in steps.values() if s["status"] == "failed"]
        why = "; ".join(f"{s['step']} failed: {(s['detail'] or '')[:160]}" for s in broken)
        st.warning(
            f"Stale: the daily run of {daily['day']} did not update this page ({step} "
            f"{mine['status']}{': ' + why if why else ''}). Shown: the last results that "
            "succeeded.",
            icon=":material/history:",
        )


def accuracy_metric(container, overall: dict | None) -> None:
    """The forecast accuracy tile: the forecasts' error against the seasonal naive forecast
    on the same SKUs and backtest days (relative MAE, below 1x beats it), with both WAPEs.
    ``overall``: the "All" row of the accuracy table (None: a dash)."""
    rel = overall.get("relative_mae") if overall else None
    wape = overall.get("wape") if overall else None
    naive = overall.get("baseline_wape") if overall else None
    if rel is not None:
        value = f"{rel:.2f}×"
    elif wape is not None:
        value = f"WAPE {wape:.0%}"
    else:
        value = "–"
    both = (
        f" WAPE {wape:.1%} against the naive's {naive:.1%}."
        if wape is not None and naive is not None
        else ""
    )
    container.metric(
        "Error ÷ naive",
        value,
        help="Backtest: sum |actual − forecast| of the shipped forecasts ÷ that of the "
        "seasonal naive forecast (last week repeated) on the same SKUs and the same days, "
        "made without them (relative MAE: below 1× beats the spreadsheet; unlike percentage "
        "errors it holds for intermittent demand, Davydenko & Fildes 2013)." + both,
    )


def demo_button(current_root: str, demo: Path, label: str, icon: str, why: str) -> None:
    """A button that opens the demo data root ``demo`` (the sidebar's data root), shown when
    it holds data and is not the root already open."""
    if demo.is_dir() and str(demo) != current_root and not identity().signed_in:
        st.button(
            label,
            icon=icon,
            on_click=lambda: st.session_state.update({"data-root": str(demo)}),
            help=why,
        )
