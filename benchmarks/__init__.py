"""Benchmarks: scripts that print figures and ratios against baselines run in the same process
tree, on the same input, in the same run (never timed unit tests). Benchmark-only code lives
here, outside the runtime package: one module per benchmark (``ingest``, ``mapping``,
``forecast``, ``procurement``, ``reconcile``) and the forecasting peers (``peers``), which
need the optional ``bench`` extra. ``stockroom bench ...`` runs them.
"""

import json
from pathlib import Path


def dump(results: dict, path: Path | None) -> None:
    if path:
        path.write_text(json.dumps(results, indent=2, default=str))
