"""Seller normalisation: platform accounts -> Seller records, cross-platform link suggestions.

Normal form of a seller name (:func:`norm_expr`): Unicode NFKD with accents and symbols dropped,
case-folded, platform decorations removed (``LLC``, ``Inc.``, ``Official``, ``(Store)``, ``™``,
``✦``, an eBay-style ``_42`` suffix), then only letters and digits kept. ``Pallet TCG (Store)``,
``PALLET TCG LLC``, ``PalletTcg`` and ``pallettcg_55`` all become ``pallettcg``.

Each platform account gets a Seller by its normal form; accounts on *different* platforms with
the same normal form are one Seller when the name is distinctive (>= :data:`MIN_CERTAIN_LEN`
characters), else the link is only suggested for review. Near-equal forms (rapidfuzz ratio >=
:data:`SUGGEST_SCORE`) are suggested with their score.
"""

from __future__ import annotations

import polars as pl
from rapidfuzz import fuzz, process

DECORATIONS = r"\b(llc|inc|ltd|gmbh|official|store)\b"
MIN_CERTAIN_LEN = 6
SUGGEST_SCORE = 90.0


def norm_expr(expr: pl.Expr) -> pl.Expr:
    """The normal form of seller names (see module doc), as a polars expression (str -> str)."""
    text = (
        expr.cast(pl.String)
        .str.replace_all("[™®©]", "")
        .str.normalize("NFKD")
        .str.replace_all(r"[^\x00-\x7F]", "")
        .str.to_lowercase()
        .str.replace(r"_\d+$", "")
    )
    text = text.str.replace_all(r"[()\[\]{}]", " ").str.replace_all(DECORATIONS, " ")
    return text.str.replace_all(r"[^a-z0-9]", "")


def resolve(accounts: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Group platform accounts into Sellers.

    Input: ``platform``, ``seller_id``, ``seller_name`` (str; name may be null, then the id is
    used). Output: ``(aliases, suggestions)``. ``aliases``: platform, seller_id, seller_name,
    norm_name (str), seller_key (int, 1-based, stable for the same input), method
    (``normalised-name``), confidence (float 0-1), status (``auto`` / ``review``).
    ``suggestions``: seller_key, other_key (int), score (float 0-100), evidence (str) for links
    that need a human.
    """
    acc = (
        accounts.select("platform", "seller_id", "seller_name")
        .unique(["platform", "seller_id"], keep="first")
        .with_columns(norm_expr(pl.coalesce("seller_name", "seller_id")).alias("norm_name"))
    )
    acc = acc.with_columns(
        pl.when(pl.col("norm_name") == "")
        .then(norm_expr(pl.col("seller_id")))
        .otherwise(pl.col("norm_name"))
        .alias("norm_name")
    )
    certain = pl.col("norm_name").str.len_chars() >= MIN_CERTAIN_LEN
    # a distinctive normal form is one seller everywhere; a short one stays per platform
    acc = acc.with_columns(
        pl.when(certain)
        .then(pl.col("norm_name"))
        .otherwise(pl.col("platform") + ":" + pl.col("norm_name"))
        .alias("_group")
    )
    groups = acc.select("_group").unique().sort("_group").with_row_index("seller_key", offset=1)
    aliases = (
        acc.join(groups, on="_group")
        .with_columns(
            pl.lit("normalised-name").alias("method"),
            pl.when(certain).then(1.0).otherwise(0.8).alias("confidence"),
            pl.lit("auto").alias("status"),
        )
        .drop("_group")
        .sort("platform", "seller_id")
    )
    suggestions = _suggest(aliases)
    return aliases.with_columns(pl.col("seller_key").cast(pl.Int64)), suggestions


def _numbered_siblings(a: str, b: str) -> bool:
    """``palletcards2`` vs ``palletcards3``: the same words, different numbers -> two shops."""
    strip = str.maketrans("", "", "0123456789")
    return a.translate(strip) == b.translate(strip) and a != b


def _suggest(aliases: pl.DataFrame) -> pl.DataFrame:
    keys = (
        aliases.group_by("seller_key")
        .agg(pl.col("norm_name").first(), pl.col("platform").unique().sort())
        .sort("seller_key")
    )
    names, seller_keys = keys["norm_name"].to_list(), keys["seller_key"].to_list()
    rows = []
    if len(names) > 1:
        scores = process.cdist(
            names, names, scorer=fuzz.ratio, score_cutoff=SUGGEST_SCORE, workers=-1
        )
        for i, j in zip(*scores.nonzero(), strict=True):
            if i < j and not _numbered_siblings(names[i], names[j]):
                rows.append(
                    {
                        "seller_key": seller_keys[i],
                        "other_key": seller_keys[j],
                        "score": float(scores[i, j]),
                        "evidence": f"{names[i]!r} ~ {names[j]!r}",
                    }
                )
    return pl.DataFrame(
        rows,
        schema={
            "seller_key": pl.Int64,
            "other_key": pl.Int64,
            "score": pl.Float64,
            "evidence": pl.String,
        },
    )
