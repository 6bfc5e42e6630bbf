"""Runnable entry points, all behind the ``stockroom`` CLI (``jobs.cli``)."""
