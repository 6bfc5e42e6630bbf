"""Runnable entry points, all behind the ``stockroom`` CLI (``stockroom_jobs.cli``)."""
