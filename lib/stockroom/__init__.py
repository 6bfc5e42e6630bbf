"""Stockroom's logic: snapshot store, canonical tables, ingestion adapters and analytics.

Nothing in ``lib`` imports Streamlit: pages, notebooks and jobs all call the same functions.
"""
