"""Resale P&L: what each item cost, what it made, how long it sat, where it sells best.

* :mod:`~stockroom.resale.costs` -- invoice charges allocated to lots, lot cost over items
* :mod:`~stockroom.resale.repo` -- lots, items, listings, sales, price history in the workbench
  database (audited), exported as the ``resale_items`` / ``resale_listings`` snapshots
* :mod:`~stockroom.resale.pnl` -- per-item profit and ROI, the period summary, aging,
  platform and category tables (frames in, frames out)
"""
