"""The served model's error where a logged beer's true IBU is known from the catalogue.

A prediction counts when the client sent the beer's PunkAPI id and the catalogue gives that beer
an IBU. Errors are by the model that answered (its tag) and which of its two models (card,
recipe), each against its gate: that model's cross-validated MAE, with the tolerance the
release gate allows a new model (`training.gate.MAE_TOLERANCE`).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from beer_platform.training.gate import MAE_TOLERANCE

MIN_KNOWN = 10  # fewer known beers, and a live error says little


@dataclass(frozen=True)
class LiveError:
    model: str
    answered_by: str
    known: int  # predictions whose true IBU is known
    mae: float
    gate: float | None  # None: the model's CV MAE is not known here

    @property
    def above_gate(self) -> bool:
        return self.gate is not None and self.known >= MIN_KNOWN and self.mae > self.gate


def live_errors(predictions: pl.DataFrame, catalogue: pl.DataFrame, cv_mae: dict[tuple[str, str], float]
                ) -> list[LiveError]:  # fmt: skip
    """Per (model, answered_by): the MAE of `predictions` (beer_id, ibu) against the `catalogue`
    (id, ibu); `cv_mae` gives each pair's cross-validated MAE where known."""
    truth = catalogue.select(beer_id="id", true_ibu="ibu").drop_nulls()
    scored = predictions.filter(pl.col("beer_id").is_not_null()).join(truth, on="beer_id", how="inner")
    by_model = scored.group_by("model", "answered_by").agg(
        known=pl.len(), mae=(pl.col("ibu") - pl.col("true_ibu")).abs().mean()).sort("model", "answered_by")  # fmt: skip
    return [
        LiveError(row["model"], row["answered_by"], row["known"], round(row["mae"], 3),
                  None if (key := (row["model"], row["answered_by"])) not in cv_mae
                  else round(cv_mae[key] * (1 + MAE_TOLERANCE), 3))  # fmt: skip
        for row in by_model.iter_rows(named=True)
    ]
