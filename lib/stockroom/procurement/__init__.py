"""Procurement: from forecasts, stock and open purchase orders to what to order today."""
