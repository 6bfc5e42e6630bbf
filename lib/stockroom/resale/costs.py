"""What an acquisition cost: invoice charges allocated to lots, a lot's cost split over its items.

All amounts are exact to the cent (``Decimal``), so the lots of an invoice add up to the
invoice's total and the items of a lot to the lot's total, cent for cent.

Allocation rule (stated once, used by the PDF and spreadsheet imports alike): an invoice-level
charge (buyer's premium, sales tax, shipping) is shared among the invoice's lots **pro rata by
hammer price**; each lot first gets the whole cents of its share (rounded down), and the cents
left over go one each to the lots with the largest remainders, ties to the earlier lot (the
largest-remainder or Hamilton method). Lots whose hammer prices are all zero share equally.
A lot's total cost is hammer + premium + tax + shipping; its items each cost total / quantity,
split the same way (the first items carry the odd cents).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(value: object) -> Decimal:
    """``value`` (int, float, str or Decimal) as a Decimal rounded half-up to the cent."""
    if isinstance(value, float):
        value = repr(value)
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def allocate(total: object, weights: Sequence[object]) -> list[Decimal]:
    """Split ``total`` (money, >= 0) into ``len(weights)`` cent amounts proportional to
    ``weights`` (>= 0; all zero = equal shares) that add up to ``total`` exactly.

    Largest-remainder method (see module doc). Raises ``ValueError`` for no weights, a
    negative total or a negative weight.
    """
    total = cents(total)
    if not weights:
        raise ValueError("nothing to allocate to: no lots")
    w = [Decimal(str(x)) for x in weights]
    if total < 0 or any(x < 0 for x in w):
        raise ValueError("amounts to allocate must not be negative")
    if sum(w) == 0:
        w = [Decimal(1)] * len(w)
    units = int(total / CENT)
    exact = [units * x / sum(w) for x in w]
    floors = [int(e) for e in exact]
    left = units - sum(floors)
    order = sorted(range(len(w)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [Decimal(f) * CENT for f in floors]


def split_items(total: object, quantity: int) -> list[Decimal]:
    """A lot's total cost over its ``quantity`` items (>= 1), first items carrying the odd
    cents; raises ``ValueError`` for a quantity below 1."""
    if quantity < 1:
        raise ValueError(f"quantity must be at least 1, not {quantity}")
    return allocate(total, [1] * quantity)


def lot_totals(
    hammers: Sequence[object], premium: object, tax: object, shipping: object
) -> list[dict[str, Decimal]]:
    """Per lot: hammer, premium, tax, shipping and total_cost (Decimal) when one invoice's
    ``premium``, ``tax`` and ``shipping`` totals are allocated pro rata by hammer price."""
    shares = {
        name: allocate(amount, hammers)
        for name, amount in (("premium", premium), ("tax", tax), ("shipping", shipping))
    }
    out = []
    for i, hammer in enumerate(hammers):
        row = {"hammer": cents(hammer), **{k: v[i] for k, v in shares.items()}}
        row["total_cost"] = row["hammer"] + row["premium"] + row["tax"] + row["shipping"]
        out.append(row)
    return out
