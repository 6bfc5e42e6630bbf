"""The saved forecaster's folder, as far as a reader needs it: where the manifest is and how to
read it, without importing the model code (XGBoost), so a page can name the forecaster behind
its forecasts cheaply. :meth:`stockroom.forecast.forecaster.Forecaster.save` writes the folder.
"""

from __future__ import annotations

import json
from pathlib import Path

#: the manifest's file name inside a saved forecaster's folder
MANIFEST_FILE = "manifest.json"


def read_manifest(path: Path) -> dict:
    """The manifest of the forecaster saved in ``path`` (config, cutoff, training window, data
    fingerprint, library versions). Raises ``FileNotFoundError`` when none is saved there."""
    return json.loads((Path(path) / MANIFEST_FILE).read_text())
