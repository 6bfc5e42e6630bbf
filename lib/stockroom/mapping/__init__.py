"""Mapping: one Seller across platforms, external SKUs to the internal catalog (tiers), with a
review queue and an append-only audit log in the workbench database."""
