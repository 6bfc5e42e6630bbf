"""Demand forecasting: metrics, baselines, the global model and backtests."""
