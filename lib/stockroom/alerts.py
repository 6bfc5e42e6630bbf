"""Alerts: rules a seller subscribes to, de-duplicated, sent by email (SMTP) and webhook.

Rules (:data:`stockroom.sources.RULES`), each a set of *conditions* ``(rule, key, message)``:

* ``stockout`` -- a SKU will run out within its lead time (or the per-SKU threshold in days
  set in ``[alerts.stockout_days]``) on the latest plan: runway_days <= threshold, the open POs
  not covering it in time. Key: the SKU.
* ``order_today`` -- the Order today list is not empty. Key: ``order_today``.
* ``source_failed`` -- a configured source is paused (its token was refused) or its latest
  sync failed. Key: the source's name.
* ``job_failed`` -- a step of the latest `stockroom daily` failed. Key: the step.
* ``price_target`` / ``price_move`` -- a watched item's lowest ask reached the seller's target
  or moved more than the threshold in a day (``[[market.watch]]``; :mod:`stockroom.market.watch`).

De-duplication (:func:`update`): a condition is sent once when it appears and stays open,
silent, while it holds; when it is gone it is cleared, and the next time it appears it is sent
again (re-armed). With ``digest = true`` the new alerts of a run go out as one message.

Channels: email through the SMTP server of ``[alerts] smtp_host/smtp_port`` (credentials, when
the server needs them, from ``STOCKROOM_SMTP_USER``/``STOCKROOM_SMTP_PASSWORD`` or ``[smtp]`` in
``.streamlit/secrets.toml``; never logged) and a JSON POST to each webhook URL
(``{"rule", "key", "message", "opened_at"}``, or ``{"digest": [...]}``), with httpx.
"""

from __future__ import annotations

import json
import smtplib
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import polars as pl
import sqlalchemy as sa

from stockroom import config, store
from stockroom.sources import Alerts, Settings


@dataclass(frozen=True)
class Condition:
    rule: str
    key: str
    message: str


def evaluate(
    root: Path,
    settings: Settings,
    day_steps: list[dict] | None = None,
    today: date | None = None,
) -> list[Condition]:
    """The conditions that hold now, for the rules ``settings.alerts.rules`` subscribes to.
    ``day_steps``: the latest daily run's steps (step, status, detail) for ``job_failed``;
    ``today`` (default: the UTC date): the day items' ages are counted to."""
    from stockroom import sources, workbench

    rules = set(settings.alerts.rules)
    out: list[Condition] = []
    plan_day = store.resolve_as_of(root, "order_plan", None)
    plan = store.read_snapshot(root, "order_plan", plan_day) if plan_day else None
    titles = _titles(root)
    if plan is not None and "stockout" in rules:
        thresholds = settings.alerts.stockout_days
        at_risk = plan.filter(pl.col("runway_days").is_not_null()).with_columns(
            pl.col("sku")
            .replace_strict(thresholds, default=None, return_dtype=pl.Float64)
            .fill_null(pl.col("lead_time_days").cast(pl.Float64))
            .alias("_threshold")
        )
        at_risk = at_risk.filter(
            (pl.col("runway_days") <= pl.col("_threshold"))
            & (pl.col("on_order_in_time") + pl.col("available") < pl.col("demand_protection"))
        ).sort("revenue_at_risk", descending=True)
        for r in at_risk.iter_rows(named=True):
            name = titles.get(r["sku"]) or r["sku"]
            out.append(
                Condition(
                    "stockout",
                    r["sku"],
                    f"{name} ({r['sku']}) runs out in {r['runway_days']:.0f} days, within its "
                    f"{r['_threshold']:.0f}-day threshold; {r['available']:,} available, "
                    f"{r['on_order']:,} on order; order {r['order_qty']:,} from {r['supplier']}",
                )
            )
    if plan is not None and "order_today" in rules:
        today = plan.filter(pl.col("action") == "order_today").sort(
            "revenue_at_risk", descending=True
        )
        if today.height:
            top = ", ".join(
                f"{titles.get(s) or s} x{q:,}"
                for s, q in today.select("sku", "order_qty").head(5).iter_rows()
            )
            out.append(
                Condition(
                    "order_today",
                    "order_today",
                    f"{today.height} SKU(s) to order today (plan of {plan_day}): {top}",
                )
            )
    eng = workbench.engine(root)
    if "source_failed" in rules:
        for name, st in sources.state(eng).items():
            if st["status"] == "paused":
                out.append(
                    Condition("source_failed", name, f"source {name} paused: {st['reason']}")
                )
        for r in day_steps or []:
            for failure in (r.get("sources_failed") or {}).items():
                if not any(c.rule == "source_failed" and c.key == failure[0] for c in out):
                    out.append(
                        Condition(
                            "source_failed", failure[0], f"source {failure[0]} failed: {failure[1]}"
                        )
                    )
    if {"price_target", "price_move"} & rules and settings.market.watch:
        out.extend(_price_conditions(root, settings, rules))
    if "resale_aging" in rules and settings.resale.aging_alert_days:
        day = today or datetime.now(UTC).date()
        out.extend(_aging_conditions(root, settings.resale.aging_alert_days, day))
    if "job_failed" in rules:
        for r in day_steps or []:
            if r["status"] == "failed":
                out.append(
                    Condition(
                        "job_failed", r["step"], f"daily step {r['step']} failed: {r['detail']}"
                    )
                )
    return out


def _price_conditions(root: Path, settings: Settings, rules: set[str]) -> list[Condition]:
    """The watched items' price alerts on the latest market snapshot
    (:mod:`stockroom.market.watch`)."""
    from stockroom.db import connect
    from stockroom.market import views, watch

    con = connect(root)
    day = views.market_day(con)
    if day is None:
        return []
    found = watch.conditions(con, day, settings.market.watch, settings.market.move_threshold)
    return [Condition(*c) for c in found if c[0] in rules]


def _aging_conditions(root: Path, days: int, today: date) -> list[Condition]:
    """One alert per unsold resale item older than ``days`` on ``today`` (the latest resale
    snapshot on or before it)."""
    from stockroom.resale import pnl, views

    book = views.book(root, today)
    if book.day is None:
        return []
    return [
        Condition(
            "resale_aging",
            r["item_id"],
            f"{r['name']} ({r['item_id']}) unsold for {r['age_days']} days, past your "
            f"{days}-day limit; cost {r['cost']:,.2f} {book.currency}; "
            f"{r['status']} at {r['location'] or 'no location'} {r['bin'] or ''}".rstrip(),
        )
        for r in pnl.crossed(book.pnl, days).iter_rows(named=True)
    ]


def _titles(root: Path) -> dict[str, str]:
    day = store.resolve_as_of(root, "products", None)
    if day is None:
        return {}
    frame = store.read_snapshot(root, "products", day).select("sku", "title").drop_nulls()
    return dict(frame.iter_rows())


def update(
    eng: sa.Engine,
    conditions: list[Condition],
    now: datetime | None = None,
    rules: set[str] | None = None,
) -> tuple[list[Condition], list[tuple[str, str]]]:
    """Record ``conditions`` in the ``alerts`` table: returns (new ones to send, cleared keys).

    Open conditions that hold again are left alone (sent once); open ones that no longer hold
    are cleared (re-armed); cleared ones that hold again are re-opened and sent. With
    ``rules``, only alerts of those rules were evaluated: the others are left as they are. One
    transaction, so two runs at once cannot both send the same alert."""
    from stockroom.workbench import alerts as table

    now = now or datetime.now(UTC)
    holding = {(c.rule, c.key): c for c in conditions}
    new, cleared = [], []
    with eng.begin() as conn:
        rows = {
            (r.rule, r.key): r._mapping
            for r in conn.execute(sa.select(table))
            if rules is None or r.rule in rules
        }
        for k, c in holding.items():
            row = rows.get(k)
            if row is None:
                conn.execute(
                    table.insert().values(
                        rule=c.rule, key=c.key, status="open", message=c.message, opened_at=now
                    )
                )
                new.append(c)
            elif row["status"] != "open":
                conn.execute(
                    table.update()
                    .where((table.c.rule == c.rule) & (table.c.key == c.key))
                    .values(
                        status="open",
                        message=c.message,
                        opened_at=now,
                        cleared_at=None,
                        notified_at=None,
                    )
                )
                new.append(c)
        for k, row in rows.items():
            if row["status"] == "open" and k not in holding:
                conn.execute(
                    table.update()
                    .where((table.c.rule == k[0]) & (table.c.key == k[1]))
                    .values(status="cleared", cleared_at=now)
                )
                cleared.append(k)
    return new, cleared


def open_alerts(eng: sa.Engine) -> pl.DataFrame:
    """The alerts table: rule, key, status, message, opened_at, cleared_at, notified_at."""
    from stockroom.workbench import alerts as table

    with eng.connect() as conn:
        rows = [
            dict(r._mapping)
            for r in conn.execute(sa.select(table).order_by(table.c.opened_at.desc()))
        ]
    schema = {
        "rule": pl.String,
        "key": pl.String,
        "status": pl.String,
        "message": pl.String,
        "opened_at": pl.Datetime("us", "UTC"),
        "cleared_at": pl.Datetime("us", "UTC"),
        "notified_at": pl.Datetime("us", "UTC"),
        "channels": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)


def send(
    eng: sa.Engine, alerts_cfg: Alerts, new: list[Condition], now: datetime | None = None
) -> dict[str, int]:
    """Send ``new`` alerts on every configured channel (one message each, or one digest);
    mark them notified. Returns messages sent per channel. A channel that fails raises after
    the others were tried (the alerts stay un-notified for the next run to retry)."""
    from stockroom.workbench import alerts as table

    if not new or not (alerts_cfg.email or alerts_cfg.webhook):
        return {"email": 0, "webhook": 0}
    now = now or datetime.now(UTC)
    batches = [new] if alerts_cfg.digest else [[c] for c in new]
    sent = {"email": 0, "webhook": 0}
    errors = []
    for batch in batches:
        if alerts_cfg.email:
            try:
                _email(alerts_cfg, batch)
                sent["email"] += 1
            except (OSError, smtplib.SMTPException) as exc:
                errors.append(f"email: {type(exc).__name__}: {exc}")
        for url in alerts_cfg.webhook:
            try:
                _webhook(url, batch, now)
                sent["webhook"] += 1
            except Exception as exc:  # httpx errors of every kind: keep trying the others
                errors.append(f"webhook {url}: {type(exc).__name__}")
    channels = ",".join(c for c in ("email", "webhook") if sent[c])
    with eng.begin() as conn:
        for c in new:
            conn.execute(
                table.update()
                .where((table.c.rule == c.rule) & (table.c.key == c.key))
                .values(notified_at=now, channels=channels)
            )
    if errors:
        from stockroom.errors import StockroomError, redact

        raise StockroomError("alerts not delivered: " + "; ".join(redact(e) for e in errors))
    return sent


def _subject(batch: list[Condition]) -> str:
    if len(batch) == 1:
        return f"[Stockroom] {batch[0].rule.replace('_', ' ')}: {batch[0].key}"
    return f"[Stockroom] {len(batch)} alerts"


def _email(cfg: Alerts, batch: list[Condition]) -> None:
    msg = EmailMessage()
    msg["Subject"] = _subject(batch)
    msg["From"] = cfg.sender
    msg["To"] = ", ".join(cfg.email)
    msg.set_content("\n".join(f"- {c.message}" for c in batch) + "\n")
    user, password = config.smtp_credentials()
    with smtplib.SMTP(cfg.smtp_host, cfg.smtp_port, timeout=10) as smtp:
        if user and password:
            smtp.starttls()
            smtp.login(user, password)
        smtp.send_message(msg)


def _webhook(url: str, batch: list[Condition], now: datetime) -> None:
    import httpx

    items = [
        {"rule": c.rule, "key": c.key, "message": c.message, "opened_at": now.isoformat()}
        for c in batch
    ]
    payload = items[0] if len(items) == 1 else {"digest": items}
    response = httpx.post(
        url, content=json.dumps(payload), headers={"Content-Type": "application/json"}, timeout=10
    )
    response.raise_for_status()
