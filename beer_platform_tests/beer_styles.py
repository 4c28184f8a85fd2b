"""A table declared the way a user adds one (docs/lake.md): `beer_styles`, built from `beers`."""

from __future__ import annotations

import polars as pl

from beer_platform.lake.declaration import Built, Check, Chunk, Column, Table


def _styles(chunk: Chunk) -> Built:
    name = pl.col("name")
    style = (pl.when(name.str.contains("(?i)ipa")).then(pl.lit("IPA"))
             .when(name.str.contains("(?i)stout")).then(pl.lit("stout")).otherwise(pl.lit("other")))  # fmt: skip
    return Built(chunk.built["beers"].rows.select(beer_id="id", style=style), pl.DataFrame())


STYLES = Table(
    name="beer_styles",
    description="Each beer's style, read from its name.",
    rows_are="beers",
    columns=(Column("beer_id", pl.Int64, "PunkAPI beer id"), Column("style", pl.String, "IPA, stout or other")),
    build=_styles,
    built_from=("beers",),
    checks=(Check("one_style_per_beer", "Each beer has one style.", blocking=True,
                  find=lambda chunk: chunk.built["beer_styles"].rows.filter(pl.col("beer_id").is_duplicated())),),
)
