"""Cross-platform reconciliation: the central inventory against every platform's listings."""
