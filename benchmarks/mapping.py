"""The entity-matching benchmark on a DeepMatcher/Magellan folder (and blocking on a Leipzig
folder)."""

from __future__ import annotations

import multiprocessing as mp
import resource
import time
from pathlib import Path

import numpy as np
import polars as pl

from stockroom.errors import InputError, InputProblem
from stockroom.ingest.tabular import read_csv
from stockroom.mapping import matching


def _read_pairs(path: Path) -> pl.DataFrame:
    frame = pl.read_csv(path, infer_schema=False)
    missing = {"ltable_id", "rtable_id", "label"} - set(frame.columns)
    if missing:
        raise InputError([InputProblem(str(path), None, c, "missing column") for c in missing])
    return frame.select(pl.col("ltable_id"), pl.col("rtable_id"), pl.col("label").cast(pl.Int8))


def _mapping_child(folder: str, leipzig: str | None, seeds: int, k: int, queue) -> None:
    started = time.perf_counter()
    root = Path(folder)
    left = matching.Table.from_frame(pl.read_csv(root / "tableA.csv", infer_schema=False))
    right = matching.Table.from_frame(pl.read_csv(root / "tableB.csv", infer_schema=False))
    features = matching.PairFeatures(left, right)
    index_l = {v: i for i, v in enumerate(left.ids)}
    index_r = {v: i for i, v in enumerate(right.ids)}
    split = {}
    for name in ("train", "valid", "test"):
        pairs = _read_pairs(root / f"{name}.csv")
        li = np.array([index_l[v] for v in pairs["ltable_id"]])
        ri = np.array([index_r[v] for v in pairs["rtable_id"]])
        split[name] = (features.transform(li, ri), pairs["label"].to_numpy())
    scores = []
    for seed in range(seeds):
        model = matching.train(*split["train"], seed=seed)
        p_valid = model.predict_proba(split["valid"][0])[:, 1]
        threshold = matching.best_f1_threshold(p_valid, split["valid"][1])
        x_test, y_test = split["test"]
        pred = model.predict_proba(x_test)[:, 1] >= threshold
        tp = float(np.sum(pred & (y_test == 1)))
        scores.append(
            {
                "seed": seed,
                "threshold": threshold,
                "precision": tp / max(1, pred.sum()),
                "recall": tp / max(1, y_test.sum()),
                "f1": matching.f1(y_test, pred),
            }
        )
    result = {
        "dataset": root.name,
        "pairs": {n: int(len(s[1])) for n, s in split.items()},
        "seeds": seeds,
    }
    for metric in ("precision", "recall", "f1"):
        values = np.array([s[metric] for s in scores]) * 100
        result[metric] = {
            "mean": round(float(values.mean()), 2),
            "std": round(float(values.std()), 2),
        }
    result["runs"] = scores
    result["matching_seconds"] = round(time.perf_counter() - started, 2)
    if leipzig:
        started_b = time.perf_counter()
        folder_b = Path(leipzig)
        tables = sorted(p for p in folder_b.glob("*.csv") if p.name != "gt.csv")
        if len(tables) != 2 or not (folder_b / "gt.csv").is_file():
            raise ValueError(f"{folder_b}: expected two table CSVs and gt.csv")
        a = matching.Table.from_frame(read_csv(tables[0]))
        b = matching.Table.from_frame(read_csv(tables[1]))
        gold_frame = read_csv(folder_b / "gt.csv")
        d1, d2 = [c for c in gold_frame.columns if not c.startswith("_")][:2]
        gold = set(zip(gold_frame[d1].to_list(), gold_frame[d2].to_list(), strict=True))
        # which table is D1 is not in the file names (the alphabetical order gave 0 % recall
        # on a folder whose left table sorts second): the gold pairs say it, their names are
        # alike one way round only
        if _fit(gold, b, a) > _fit(gold, a, b):
            a, b, tables = b, a, tables[::-1]
        cand = matching.block(a, b, k=k)
        ids_a, ids_b = np.array(a.ids), np.array(b.ids)
        kept = set(
            zip(ids_a[cand["left"].to_numpy()], ids_b[cand["right"].to_numpy()], strict=True)
        )
        result["blocking"] = {
            "tables": [t.name for t in tables],
            "k": k,
            "candidates": len(kept),
            "gold_pairs": len(gold),
            "recall": round(100 * len(gold & kept) / len(gold), 2),
            "reduction_ratio": round(100 * (1 - len(kept) / (len(a.ids) * len(b.ids))), 3),
            "seconds": round(time.perf_counter() - started_b, 2),
        }
    result["wall_seconds"] = round(time.perf_counter() - started, 2)
    result["peak_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    queue.put(result)


def _fit(gold: set[tuple[str, str]], left: matching.Table, right: matching.Table) -> float:
    """How well the gold pairs fit with ``left`` as D1: mean token-set similarity (0-100) of
    the two names over up to 200 pairs; a pair whose ids are missing counts 0."""
    from rapidfuzz import fuzz

    names_l = dict(zip(left.ids, left.names, strict=True))
    names_r = dict(zip(right.ids, right.names, strict=True))
    sample = sorted(gold)[:200]
    return sum(
        fuzz.token_set_ratio(names_l[d1], names_r[d2]) if d1 in names_l and d2 in names_r else 0.0
        for d1, d2 in sample
    ) / max(1, len(sample))


def run_mapping_bench(
    folder: Path, leipzig: Path | None = None, seeds: int = 5, k: int = 10
) -> dict:
    """Entity-matching benchmark on a DeepMatcher/Magellan folder (tableA/tableB and
    train/valid/test pairs), optionally blocking on a Leipzig folder (two tables + gt.csv).

    Runs in a fresh child process (its own peak RSS). Returns precision/recall/F1 on test in
    percent (mean and std over ``seeds``; threshold = best F1 on valid), pair counts, wall time
    (s) and peak memory (MiB); with ``leipzig``: blocking recall and reduction ratio (percent)
    at top-``k``.
    """
    for name in ("tableA.csv", "tableB.csv", "train.csv", "valid.csv", "test.csv"):
        if not (Path(folder) / name).is_file():
            raise InputError(
                [
                    InputProblem(
                        str(Path(folder) / name),
                        None,
                        None,
                        "file not found (need the DeepMatcher/Magellan layout)",
                    )
                ]
            )
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(
        target=_mapping_child,
        args=(str(folder), str(leipzig) if leipzig else None, seeds, k, queue),
    )
    proc.start()
    result = queue.get()
    proc.join()
    return result
