"""The buyer's lists: every SKU lands in exactly one of Order today, Already ordered,
Attention required or OK, with its reasons in words (the brief's rules); Attention required
says which kind of attention and what to do; exceptions (overstock, too much on order,
dormant stock) are flagged apart, with the money they tie up.

Precedence (so no SKU sits in two lists): Attention required > Order today > Already ordered
> OK.

* **Attention required** -- units are needed (an order is due, or open POs cover only part of
  the need), and a person has to decide:
  :data:`ATTENTION_REASONS`, the first that applies being the SKU's ``attention`` (all of them
  stay in ``reason``):

  - ``partial_po`` -- open POs cover only part of the need until the next review;
  - ``below_moq`` -- the requirement is below the MOQ (ordering means buying more than needed);
  - ``new_product`` -- a cold start: the forecast is its category's average;
  - ``check_forecast`` -- low forecast confidence or a demand spike.
* **Order today** -- runway <= the reorder threshold, an order is needed and no open PO covers
  any of it.
* **Already ordered** -- open POs arriving within the protection period cover the need until
  the next review.
* **OK** -- otherwise.

Dormant stock (no sale for longer than its own rhythm allows, 30 days at least;
:func:`stockroom.forecast.rules.patience`) is no longer an Attention reason: nothing is to be
ordered, so it is an exception (:func:`exceptions`), ranked by the money it ties up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ORDER_TODAY = "order_today"
ALREADY_ORDERED = "already_ordered"
ATTENTION = "attention_required"
OK = "ok"
ACTIONS = (ORDER_TODAY, ALREADY_ORDERED, ATTENTION, OK)

#: Attention reasons, in precedence order: code -> (label, the step it asks for).
ATTENTION_REASONS = {
    "partial_po": (
        "Open POs cover part of the need",
        "Top up: order the remaining quantity, or ask the supplier to expedite",
    ),
    "below_moq": (
        "Need is below the MOQ",
        "Order the MOQ (buys ahead) or ask the supplier for a smaller quantity",
    ),
    "new_product": (
        "New product, little history",
        "Order a trial quantity and check its first weeks' sales",
    ),
    "check_forecast": (
        "Forecast uncertain or demand spiking",
        "Check the forecast and its drivers before ordering",
    ),
}

#: Exceptions, in precedence order: code -> (label, the step it asks for).
EXCEPTIONS = {
    "dormant_stock": (
        "Dormant stock (silent far longer than it usually goes between sales)",
        "Clear it: mark down, bundle, or return to the supplier",
    ),
    "overstock": (
        "Overstock",
        "Stop reordering; move or mark down the excess",
    ),
    "too_much_on_order": (
        "Too much on order",
        "Reduce, delay or cancel the open PO",
    ),
}

#: Cover beyond which stock is overstock: days of forecast demand (or the order-up-to level,
#: whichever is more).
OVERSTOCK_DAYS = 90


@dataclass
class Decision:
    """Per SKU (n each): ``action`` (str, :data:`ACTIONS`), ``reason`` (str, '; '-joined
    reasons in words, '' for OK), ``attention`` (str, a key of :data:`ATTENTION_REASONS` for
    Attention required, else '') and ``next_step`` (str: what the buyer does)."""

    action: np.ndarray
    reason: list[str]
    attention: list[str]
    next_step: list[str]


def classify(
    *,
    required: np.ndarray,
    runway: np.ndarray,
    threshold: np.ndarray,
    on_order: np.ndarray,
    coverage: np.ndarray,
    moq: np.ndarray,
    on_hand: np.ndarray,
    flags: list[str],
) -> Decision:
    """Action, reasons, attention reason and next step per SKU.

    ``required``: units needed before rounding (S - available - on order, may be <= 0);
    ``runway``/``threshold``: days; ``on_order``: units on open POs arriving in time;
    ``coverage``: share 0-1 (:func:`stockroom.procurement.policy.po_coverage`); ``moq``: units;
    ``on_hand``: units available; ``flags``: the forecast's comma-separated flags per SKU."""
    n = len(required)
    action = np.full(n, OK, dtype=object)
    reasons: list[str] = []
    attention: list[str] = []
    steps: list[str] = []
    for i in range(n):
        f = set(filter(None, flags[i].split(",")))
        need = required[i] > 0
        due = need and runway[i] <= threshold[i]
        has_po = on_order[i] > 0
        found: list[tuple[str, str]] = []  # (code, words)
        if has_po and need:
            covered = f"open POs cover {coverage[i]:.0%} of the need until the next review"
            found.append(("partial_po", covered))
        if need and 0 < moq[i] and np.ceil(required[i]) < moq[i] and (due or has_po):
            found.append(
                ("below_moq", f"needs {np.ceil(required[i]):.0f}, below the MOQ of {moq[i]:.0f}")
            )
        if need and (due or has_po):  # something to decide: an order due or a top-up
            if "cold_start" in f:
                found.append(
                    (
                        "new_product",
                        "new product: under 30 days of sales, forecast is the category average",
                    )
                )
            if "low_confidence" in f:
                found.append(
                    (
                        "check_forecast",
                        "low forecast confidence: the 90 % interval is over 3x the forecast",
                    )
                )
            if "demand_spike" in f:
                found.append(
                    ("check_forecast", "demand spike: the last 7 days sold over 2x the forecast")
                )
        step, code = "", ""
        why = [w for _, w in found]
        if found:
            action[i] = ATTENTION
            code = min((c for c, _ in found), key=list(ATTENTION_REASONS).index)
            step = ATTENTION_REASONS[code][1]
        elif due and not has_po:
            action[i] = ORDER_TODAY
            why.append(
                f"out of stock now; reorder point {threshold[i]:.0f} days of demand"
                if on_hand[i] <= 0
                else f"runs out in {runway[i]:.1f} days, within its {threshold[i]:.0f}-day "
                "reorder point"
            )
            step = "Order the recommended quantity today"
        elif has_po and not need:
            action[i] = ALREADY_ORDERED
            why.append(f"open POs ({on_order[i]:.0f} units) cover the need until the next review")
            step = "Nothing: check the PO arrives on time"
        reasons.append("; ".join(why))
        attention.append(code)
        steps.append(step)
    return Decision(action.astype(str), reasons, attention, steps)


def exceptions(
    *,
    available: np.ndarray,
    on_order: np.ndarray,
    order_up_to: np.ndarray,
    burn: np.ndarray,
    unit_value: np.ndarray,
    flags: list[str],
    overstock_days: float = OVERSTOCK_DAYS,
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The exception of each SKU, its excess units and the money they tie up.

    ``available``, ``on_order`` (all open POs), ``order_up_to`` (S): units; ``burn``: forecast
    units/day; ``unit_value``: money per unit (cost where known, else the last price; NaN = 0);
    ``flags``: the forecast's flags. The ceiling is max(S, ``overstock_days`` x burn):

    * ``dormant_stock`` -- flagged dormant with stock available: all of it is excess;
    * ``overstock`` -- available above the ceiling: the excess is available - ceiling;
    * ``too_much_on_order`` -- available below it, but available + on order above: the excess
      is the part of the POs above the ceiling.

    Returns (codes: n str, a key of :data:`EXCEPTIONS` or ''; excess units: n floats >= 0;
    money tied up: n floats >= 0, excess x unit value)."""
    available = np.maximum(np.asarray(available, dtype=float), 0)
    on_order = np.maximum(np.asarray(on_order, dtype=float), 0)
    ceiling = np.maximum(np.nan_to_num(order_up_to), overstock_days * np.nan_to_num(burn))
    dormant = np.array(["dormant" in f.split(",") for f in flags], dtype=bool)
    dead = dormant & (available > 0)
    over = ~dead & (burn > 0) & (available > ceiling)
    too_much = ~dead & ~over & (on_order > 0) & (available + on_order > ceiling)
    excess = np.select(
        [dead, over, too_much],
        [available, available - ceiling, available + on_order - ceiling],
        0.0,
    )
    code = np.select(
        [dead, over, too_much], ["dormant_stock", "overstock", "too_much_on_order"], ""
    )
    return code.tolist(), excess, excess * np.nan_to_num(unit_value)
