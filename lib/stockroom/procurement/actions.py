"""The buyer's lists: every SKU lands in exactly one of Order today, Already ordered,
Attention required or OK, with its reasons in words (the brief's rules).

Precedence (so no SKU sits in two lists): Attention required > Order today > Already ordered
> OK.

* **Attention required** -- any of: open POs cover only part of the need (partial PO
  coverage); the requirement is below the MOQ (ordering means buying more than needed); and,
  when there is something to decide (an order is due or POs are open), a new product (cold
  start, the forecast is a category average), low forecast confidence or a demand spike; a
  dormant product (no sale in 30+ days) that still has stock on hand or open POs.
* **Order today** -- runway <= the reorder threshold, an order is needed and no open PO covers
  any of it.
* **Already ordered** -- open POs arriving within the protection period cover the need until
  the next review.
* **OK** -- otherwise.
"""

from __future__ import annotations

import numpy as np

ORDER_TODAY = "order_today"
ALREADY_ORDERED = "already_ordered"
ATTENTION = "attention_required"
OK = "ok"
ACTIONS = (ORDER_TODAY, ALREADY_ORDERED, ATTENTION, OK)


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
) -> tuple[np.ndarray, list[str]]:
    """Action and reasons per SKU.

    ``required``: units needed before rounding (S - available - on order, may be <= 0);
    ``runway``/``threshold``: days; ``on_order``: units on open POs arriving in time;
    ``coverage``: share 0-1 (:func:`stockroom.procurement.policy.po_coverage`); ``moq``: units;
    ``on_hand``: units available; ``flags``: the forecast's comma-separated flags per SKU.
    Returns (actions: n str from :data:`ACTIONS`, reasons: n strings, '; '-joined)."""
    n = len(required)
    actions = np.full(n, OK, dtype=object)
    reasons: list[str] = []
    for i in range(n):
        f = set(filter(None, flags[i].split(",")))
        need = required[i] > 0
        due = need and runway[i] <= threshold[i]
        has_po = on_order[i] > 0
        why = []
        if has_po and need:
            why.append(f"open POs cover {coverage[i]:.0%} of the need until the next review")
        if need and 0 < moq[i] and np.ceil(required[i]) < moq[i] and (due or has_po):
            why.append(f"needs {np.ceil(required[i]):.0f}, below the MOQ of {moq[i]:.0f}")
        if "dormant" in f and (on_hand[i] > 0 or has_po):
            why.append(
                f"dormant (no sale in 30+ days) with {on_hand[i]:.0f} on hand"
                + (" and open POs" if has_po else "")
            )
        if due or has_po:
            if "cold_start" in f:
                why.append("new product: under 30 days of sales, forecast is the category average")
            if "low_confidence" in f:
                why.append("low forecast confidence: the 90 % interval is over 3x the forecast")
            if "demand_spike" in f:
                why.append("demand spike: the last 7 days sold over 2x the forecast")
        if why:
            actions[i] = ATTENTION
        elif due and not has_po:
            actions[i] = ORDER_TODAY
            why.append(f"runway {runway[i]:.1f} days <= threshold {threshold[i]:.0f}")
        elif has_po and not need:
            actions[i] = ALREADY_ORDERED
            why.append(f"open POs ({on_order[i]:.0f} units) cover the need until the next review")
        reasons.append("; ".join(why))
    return actions.astype(str), reasons
