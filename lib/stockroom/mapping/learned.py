"""Tier 3 applied to the workbench: map external SKUs by their listing titles, learning from
the SKUs tiers 1-2 already mapped (their titles are labelled examples, so no hand labelling).

For each external SKU still unmapped: block against the catalog (top-``k`` by character
TF-IDF), score each candidate with the pair classifier (``stockroom.mapping.matching``), keep the
best.
The auto-accept threshold is the lowest one reaching ``precision_target`` on held-out labelled
SKUs (20 %); below it the SKU goes to review with its best candidate and the score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from stockroom.mapping import matching
from stockroom.mapping.skus import OUT_SCHEMA

#: Features that do not depend on how a platform styles its titles (length, word order, first
#: word, boilerplate): the labelled examples come from other platforms than the SKUs to map.
STYLE_FREE = (
    "cos_char_name",
    "cos_word_name",
    "token_set",
    "model_jaccard",
    "model_shared",
    "left_model_in_right",
    "right_model_in_left",
    "longest_shared_model",
    "number_jaccard",
    "price_ratio",
)


@dataclass
class LearnedResult:
    mappings: pl.DataFrame  # OUT_SCHEMA, one row per unmapped external SKU
    threshold: float | None  # auto-accept threshold (None: target unreachable)
    holdout_precision: float | None
    holdout_coverage: float | None
    trained_on: int


def map_by_title(
    external: pl.DataFrame,
    catalog: pl.DataFrame,
    known: pl.DataFrame,
    *,
    precision_target: float = 0.98,
    k: int = 20,
    seed: int = 0,
    max_train: int = 4_000,
) -> LearnedResult:
    """``external``: platform, external_sku, title, price (one row per SKU). ``catalog``: sku,
    title, price. ``known``: platform, external_sku, product_sku (labels from tiers 1-2).
    Returns a mapping for every ``external`` SKU not in ``known``."""
    rng = np.random.default_rng(seed)
    labelled = external.join(
        known.select("platform", "external_sku", "product_sku"), on=["platform", "external_sku"]
    )
    todo = external.join(
        known.select("platform", "external_sku"), on=["platform", "external_sku"], how="anti"
    )
    if labelled.height > max_train:
        labelled = labelled.sample(max_train, seed=seed)
    holdout = rng.random(labelled.height) < 0.2
    records = pl.concat([labelled.drop("product_sku"), todo], how="vertical_relaxed")
    left = matching.Table.from_frame(
        records.select(
            pl.int_range(pl.len()).cast(pl.String).alias("id"),
            pl.col("title").alias("name"),
            "price",
        )
    )
    right = matching.Table.from_frame(
        catalog.select(pl.col("sku").alias("id"), pl.col("title").alias("name"), "price")
    )
    features = matching.PairFeatures(left, right)
    cand = matching.block(left, right, k=k, chunk=500)
    sku_index = {s: i for i, s in enumerate(right.ids)}
    n_lab = labelled.height
    truth = np.array([sku_index.get(s, -1) for s in labelled["product_sku"]])
    # training pairs: blocked candidates of the training SKUs, plus each true pair
    lab = cand.filter(pl.col("left") < n_lab)
    train_rows = ~holdout[lab["left"].to_numpy()]
    li, ri = lab["left"].to_numpy()[train_rows], lab["right"].to_numpy()[train_rows]
    extra = np.nonzero(~holdout & (truth >= 0))[0]
    li, ri = np.concatenate([li, extra]), np.concatenate([ri, truth[extra]])
    pairs = pl.DataFrame({"l": li, "r": ri}).unique()
    li, ri = pairs["l"].to_numpy(), pairs["r"].to_numpy()
    y = (truth[li] == ri).astype(int)
    keep = [matching.FEATURES.index(f) for f in STYLE_FREE]
    model = matching.train(features.transform(li, ri)[:, keep], y, seed=seed)
    # score every candidate once
    p = model.predict_proba(
        features.transform(cand["left"].to_numpy(), cand["right"].to_numpy())[:, keep]
    )[:, 1]
    ranked = cand.with_columns(pl.Series("p", p)).sort(["left", "p"], descending=[False, True])
    # confidence = best score x its margin over the runner-up: variants of one card (normal,
    # reverse holo, 1st edition) score alike, and a close second means "not sure which"
    best = (
        ranked.group_by("left", maintain_order=True)
        .agg(
            pl.col("right").first(),
            pl.col("p").first().alias("p1"),
            pl.col("p").slice(1, 1).first().fill_null(0.0).alias("p2"),
        )
        .with_columns((pl.col("p1") * (pl.col("p1") - pl.col("p2"))).alias("p"))
        .sort("left")
    )
    # threshold on held-out labelled SKUs: precision of the best candidate above t
    hold = best.filter(pl.col("left").is_in(np.nonzero(holdout)[0].tolist()))
    hold_ok = truth[hold["left"].to_numpy()] == hold["right"].to_numpy()
    threshold = matching.precision_threshold(
        hold["p"].to_numpy(), hold_ok.astype(int), precision_target
    )
    h_prec = h_cov = None
    if threshold is not None and hold.height:
        accepted = hold["p"].to_numpy() >= threshold
        h_prec = float(hold_ok[accepted].mean()) if accepted.any() else None
        h_cov = float(accepted.mean())
    todo_best = best.filter(pl.col("left") >= n_lab)
    rows = (
        todo.with_row_index("_i")
        .with_columns((pl.col("_i") + n_lab).alias("left"))
        .join(todo_best, on="left", how="left")
    )
    product = pl.Series(
        [right.ids[r] if r is not None else None for r in rows["right"].to_list()], dtype=pl.String
    )
    accept = (pl.col("p") >= threshold) if threshold is not None else pl.lit(False)
    out = rows.with_columns(product.alias("_cand")).select(
        "platform",
        "external_sku",
        pl.col("_cand").alias("product_sku"),
        pl.lit("learned").alias("method"),
        pl.col("p").fill_null(0.0).alias("confidence"),
        pl.when(accept).then(pl.lit("auto")).otherwise(pl.lit("review")).alias("status"),
        pl.when(accept)
        .then(None)
        .otherwise(
            pl.format(
                "best candidate {} scored {} (auto-accept from {})",
                pl.col("_cand"),
                pl.col("p").round(3),
                pl.lit("n/a" if threshold is None else f"{threshold:.2f}"),
            )
        )
        .alias("reason"),
    )
    return LearnedResult(
        out.select(list(OUT_SCHEMA)).cast(OUT_SCHEMA),
        threshold,
        h_prec,
        h_cov,
        int((~holdout).sum()),
    )
