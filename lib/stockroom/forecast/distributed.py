"""Training the global model on a Dask cluster (``xgboost.dask``) when its panel is too big for
one machine's memory setting.

The single-machine model builds one float32 feature matrix of (series x training days) rows;
past ``STOCKROOM_TRAIN_MEMORY_MB`` MiB of it (default 4,096), and with a cluster named by
``STOCKROOM_DASK_SCHEDULER`` (a scheduler address such as ``tcp://host:8786``), the matrix is
built on the workers instead, **partitioned by SKU**: each partition is a block of series
whose features and labels one worker computes from the panel (the same :func:`features` code),
and ``xgboost.dask.train`` grows the same trees (Tweedie, ``hist``, the same settings) over all
partitions with XGBoost's own allreduce (Chen and Guestrin, *XGBoost*, KDD 2016; the
``xgboost.dask`` interface). The booster comes back as an ordinary ``XGBRegressor``, so
forecasting, intervals and SHAP are unchanged.

It is not bit-identical to the single-machine model: the histogram bins come from a merged
quantile sketch, and the row subsampling (0.8) draws per worker. How close they are is tested
(``tests/test_forecast_dask.py``) and stated in README. Without a scheduler setting the model
always trains on one machine, whatever the size.
"""

from __future__ import annotations

import numpy as np
import xgboost as xgb

#: Setting: the Dask scheduler address heavy training goes to (unset: never distributed).
ENV_SCHEDULER = "STOCKROOM_DASK_SCHEDULER"
#: Setting: the training matrix size (MiB) above which training goes to the cluster.
ENV_MEMORY = "STOCKROOM_TRAIN_MEMORY_MB"
DEFAULT_MEMORY_MB = 4096.0


def matrix_mib(series: int, days: int, features: int) -> float:
    """Size of the single-machine training matrix, MiB (float32 cells)."""
    return series * days * features * 4 / 2**20


def scheduler_for(series: int, days: int, features: int) -> str | None:
    """The scheduler address to train on when the matrix exceeds the memory setting and a
    scheduler is configured; else None (train here). Raises ``ValueError`` for a memory
    setting that is not a number."""
    from stockroom import config

    address = config.dask_scheduler()
    if not address or address == "local":
        return None  # "local" is the cluster command's own cluster, not a training target
    limit = config.train_memory_mb(DEFAULT_MEMORY_MB)
    return address if matrix_mib(series, days, features) > limit else None


def _block(p, cutoff, days, rows, config, observed_fn):
    """One partition: the features and labels of the series ``rows`` (a block of SKUs)."""
    from stockroom.forecast.model import features

    x = features(p.y[:, : cutoff + 1], p, days, p.promo, rows, config)[:, config.columns]
    label = observed_fn(p, days[0], days[-1] + 1)[rows].T.ravel()
    keep = ~np.isnan(label)
    return x[keep], label[keep].astype(np.float32)


def train(p, cutoff: int, config, address: str, partitions: int | None = None) -> xgb.XGBRegressor:
    """Train the global model of ``config`` on days up to ``cutoff`` on the cluster at
    ``address``, the panel partitioned by SKU into ``partitions`` blocks (default two per
    worker). Returns a fitted ``xgb.XGBRegressor`` equivalent in use to the single-machine
    one. Raises ``OSError`` when the scheduler cannot be reached."""
    import dask
    import dask.array as da
    from distributed import Client
    from xgboost import dask as dxgb

    from stockroom.forecast.data import observed
    from stockroom.forecast.model import training_days

    days = training_days(config, cutoff)
    with Client(address) as client:
        workers = max(len(client.scheduler_info()["workers"]), 1)
        n = len(p.ids)
        blocks = np.array_split(np.arange(n), min(partitions or 2 * workers, n))
        panel = client.scatter(p, broadcast=True)
        width = len(config.columns)
        parts = [
            dask.delayed(_block, nout=2)(panel, cutoff, days, rows, config, observed)
            for rows in blocks
            if len(rows)
        ]
        x = da.concatenate(
            [da.from_delayed(xs, shape=(np.nan, width), dtype=np.float32) for xs, _ in parts]
        )
        y = da.concatenate(
            [da.from_delayed(ys, shape=(np.nan,), dtype=np.float32) for _, ys in parts]
        )
        matrix = dxgb.DaskDMatrix(client, x, y)
        model = config.regressor()
        params = {k: v for k, v in model.get_xgb_params().items() if v is not None}
        params.pop("n_jobs", None)
        params["seed"] = params.pop("random_state", config.seed)
        params["nthread"] = config.threads
        trained = dxgb.train(client, params, matrix, num_boost_round=config.trees)
    regressor = config.regressor()
    regressor.load_model(bytearray(trained["booster"].save_raw()))
    return regressor
