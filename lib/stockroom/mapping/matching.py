"""Tier 3: learned matching of product records by their text (titles, descriptions, prices).

Two steps, each a standard technique:

1. **Blocking** (:func:`block`): character n-gram (3-5, within word boundaries) TF-IDF over the
   records' text, cosine similarity, the top-``k`` right records for every left record
   (Christen, *Data Matching*, 2012, ch. 4; Papadakis et al., *Blocking and Filtering
   Techniques for Entity Resolution*, ACM CSUR 2020). Quality: *blocking recall* = gold pairs
   kept / gold pairs; *reduction ratio* = 1 - candidates / (|left| x |right|).
2. **Pair classification** (:class:`PairFeatures`, :func:`train`): similarity features --
   TF-IDF cosine on the name and on all text (character and word), rapidfuzz ratios (ratio,
   partial, token sort/set, Jaro-Winkler) on names, model-number tokens (letters and digits
   mixed: shared, Jaccard, one side's model number found in the other's text, longest shared),
   number Jaccard, price ratio, same first word, lengths -- into an XGBoost classifier. The
   decision threshold is chosen on held-out pairs: for the benchmark, the best F1 on the
   validation split; in production, the lowest threshold that reaches a precision target.

Frames: a *table* has an ``id`` column and text columns; the name column is the first of
``name``/``title``; ``price`` (if present) is parsed as a number; every other column is text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import polars as pl
import xgboost as xgb
from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

MODEL_TOKEN = re.compile(r"\b(?=[a-z0-9-]*\d)(?=[a-z0-9-]*[a-z])[a-z0-9-]{3,}\b")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
FEATURES = (
    "cos_char_name",
    "cos_word_name",
    "cos_char_text",
    "cos_word_text",
    "ratio",
    "partial_ratio",
    "token_sort",
    "token_set",
    "jaro_winkler",
    "model_jaccard",
    "model_shared",
    "left_model_in_right",
    "right_model_in_left",
    "longest_shared_model",
    "text_model_jaccard",
    "number_jaccard",
    "price_ratio",
    "same_first_word",
    "len_left",
    "len_right",
    "len_diff",
)


@dataclass
class Table:
    """A table of records prepared for matching (see module doc for the columns)."""

    ids: list[str]
    names: list[str]
    texts: list[str]
    prices: np.ndarray  # float, NaN when unknown

    @classmethod
    def from_frame(cls, frame: pl.DataFrame) -> Table:
        cols = [c for c in frame.columns if c != "id" and not c.startswith("_")]
        name = next((c for c in ("name", "title") if c in cols), cols[0])
        text_cols = [c for c in cols if c != "price"]
        lower = lambda c: pl.col(c).cast(pl.String).fill_null("").str.to_lowercase()  # noqa: E731
        prepared = frame.select(
            pl.col("id").cast(pl.String),
            lower(name).alias("_name"),
            pl.concat_str([lower(c) for c in text_cols], separator=" ")
            .str.strip_chars()
            .alias("_text"),
            (
                pl.col("price")
                .cast(pl.String)
                .str.replace_all(r"[^\d.]", "")
                .cast(pl.Float64, strict=False)
                if "price" in cols
                else pl.lit(None, pl.Float64)
            ).alias("_price"),
        )
        return cls(
            prepared["id"].to_list(),
            prepared["_name"].to_list(),
            prepared["_text"].to_list(),
            prepared["_price"].fill_null(np.nan).to_numpy(),
        )


def _models(text: str) -> set[str]:
    return {m.replace("-", "") for m in MODEL_TOKEN.findall(text)}


def block(left: Table, right: Table, k: int = 10, chunk: int = 2_000) -> pl.DataFrame:
    """Candidate pairs: for each left record the ``k`` most similar right records.

    Returns ``left`` (int, row in left), ``right`` (int, row in right), ``score`` (float 0-1,
    TF-IDF cosine). Memory: one ``chunk`` x |right| block of scores at a time.
    """
    vec = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, dtype=np.float32
    ).fit(left.names + right.names)
    a, b = vec.transform(left.names), vec.transform(right.names).T.tocsc()
    k = min(k, len(right.names))
    rows, cols, scores = [], [], []
    for start in range(0, a.shape[0], chunk):
        block_scores = (a[start : start + chunk] @ b).toarray()
        top = np.argpartition(-block_scores, kth=k - 1, axis=1)[:, :k]
        rows.append(np.repeat(np.arange(start, start + block_scores.shape[0]), k))
        cols.append(top.ravel())
        scores.append(np.take_along_axis(block_scores, top, axis=1).ravel())
    return pl.DataFrame(
        {
            "left": np.concatenate(rows),
            "right": np.concatenate(cols),
            "score": np.concatenate(scores),
        }
    )


class PairFeatures:
    """Similarity features (:data:`FEATURES`) for pairs of records of two tables."""

    def __init__(self, left: Table, right: Table):
        self.left, self.right = left, right
        specs = {
            "char_name": ("names", dict(analyzer="char_wb", ngram_range=(2, 5))),
            "word_name": ("names", dict(analyzer="word", token_pattern=r"[a-z0-9]+")),
            "char_text": (
                "texts",
                dict(analyzer="char_wb", ngram_range=(3, 5), max_features=200_000),
            ),
            "word_text": ("texts", dict(analyzer="word", token_pattern=r"[a-z0-9]+")),
        }
        self._tfidf = {}
        for key, (field, kwargs) in specs.items():
            a, b = getattr(left, field), getattr(right, field)
            vec = TfidfVectorizer(sublinear_tf=True, dtype=np.float32, **kwargs).fit(a + b)
            self._tfidf[key] = (vec.transform(a), vec.transform(b))
        self._models = ([_models(s) for s in left.names], [_models(s) for s in right.names])
        self._text_models = ([_models(s) for s in left.texts], [_models(s) for s in right.texts])
        self._flat = (
            [s.replace("-", "") for s in left.texts],
            [s.replace("-", "") for s in right.texts],
        )

    def transform(self, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
        """Feature matrix (float32, len(li) x len(FEATURES)) for pairs (li[n], ri[n])."""
        cos = [
            np.asarray(sparse.csr_matrix.multiply(ma[li], mb[ri]).sum(axis=1)).ravel()
            for ma, mb in self._tfidf.values()
        ]
        rows = np.empty((len(li), len(FEATURES) - len(cos)), dtype=np.float32)
        for n, (i, j) in enumerate(zip(li, ri, strict=True)):
            a, b = self.left.names[i], self.right.names[j]
            am, bm = self._models[0][i], self._models[1][j]
            atm, btm = self._text_models[0][i], self._text_models[1][j]
            na, nb = set(NUMBER.findall(a)), set(NUMBER.findall(b))
            pa, pb = self.left.prices[i], self.right.prices[j]
            rows[n] = (
                fuzz.ratio(a, b),
                fuzz.partial_ratio(a, b),
                fuzz.token_sort_ratio(a, b),
                fuzz.token_set_ratio(a, b),
                JaroWinkler.similarity(a, b),
                len(am & bm) / max(1, len(am | bm)),
                len(am & bm),
                float(any(m in self._flat[1][j] for m in am if len(m) >= 4)),
                float(any(m in self._flat[0][i] for m in bm if len(m) >= 4)),
                max((len(m) for m in atm & btm), default=0),
                len(atm & btm) / max(1, len(atm | btm)),
                len(na & nb) / max(1, len(na | nb)),
                min(pa, pb) / max(pa, pb) if pa > 0 and pb > 0 else -1.0,
                float(a.split()[:1] == b.split()[:1]),
                len(a),
                len(b),
                abs(len(a) - len(b)),
            )
        return np.column_stack([np.column_stack(cos).astype(np.float32), rows])


def train(x: np.ndarray, y: np.ndarray, seed: int = 0) -> xgb.XGBClassifier:
    """Fit the pair classifier (XGBoost, 400 trees of depth 6, subsampled; 2 threads)."""
    model = xgb.XGBClassifier(
        n_estimators=400,
        max_depth=6,
        learning_rate=0.05,
        subsample=0.8,
        colsample_bytree=0.8,
        random_state=seed,
        n_jobs=2,
        eval_metric="logloss",
    )
    return model.fit(x, y)


def best_f1_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The threshold in 0.10..0.90 (step 0.01) with the best F1 of ``p >= t`` against ``y``."""
    grid = np.round(np.arange(0.10, 0.905, 0.01), 2)
    return float(max(grid, key=lambda t: f1(y, p >= t)))


def precision_threshold(p: np.ndarray, y: np.ndarray, target: float = 0.98) -> float | None:
    """The lowest threshold in 0.00..0.99 (step 0.01) whose precision on (p, y) is >=
    ``target`` (None if none is)."""
    for t in np.round(np.arange(0.0, 1.0, 0.01), 2):
        pred = p >= t
        if pred.any() and (y[pred] == 1).mean() >= target:
            return float(t)
    return None


def f1(y: np.ndarray, pred: np.ndarray) -> float:
    """F1 = 2PR / (P + R) of boolean predictions against 0/1 labels (0 when undefined)."""
    tp = float(np.sum(pred & (y == 1)))
    fp, fn = float(np.sum(pred & (y == 0))), float(np.sum(~pred & (y == 1)))
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)
