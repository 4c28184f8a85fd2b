"""The beers table's fields: the nine published ones typed, and the values that look wrong.

Pure polars. A raw record's `data` may hold a field as JSON text (the per-line fallback of
`raw_reader`) or typed: `id_expr` and `number_expr` read either, strictly (1.5, true or "abc"
are not ids; "7" is), and say where a value failed to convert.
"""

from __future__ import annotations

import polars as pl

NUMERIC_FIELDS: tuple[str, ...] = ("abv", "ibu", "target_fg", "target_og", "ebc", "srm", "ph")
CLEANED_SCHEMA = pl.Schema({"id": pl.Int64, "name": pl.String, **{field: pl.Float64 for field in NUMERIC_FIELDS}})

# Implausible published values, by kind: kept and flagged, never dropped or clipped. A comparison
# with null is null, so nulls are never anomalies.
ANOMALIES: dict[str, pl.Expr] = {
    "ph_out_of_range": ~pl.col("ph").is_between(0, 14),
    "ibu_equals_target_og": pl.col("ibu") == pl.col("target_og"),  # a value copied into the wrong field
    "target_fg_above_target_og": pl.col("target_fg") > pl.col("target_og"),  # fermentation lowers gravity
    "abv_out_of_range": ~pl.col("abv").is_between(0, 100),
    "ibu_negative": pl.col("ibu") < 0,
    "ebc_negative": pl.col("ebc") < 0,
    "srm_negative": pl.col("srm") < 0,
}


def field_expr(name: str, data_fields: dict[str, pl.DataType]) -> pl.Expr:
    """`data.<name>`; null when no record has the field (the struct then lacks it too)."""
    return pl.col("data").struct.field(name) if name in data_fields else pl.lit(None)


def id_expr(data_fields: dict[str, pl.DataType]) -> pl.Expr:
    """The id as a positive Int64, null when missing or not a positive integer."""
    raw, dtype = field_expr("id", data_fields), data_fields.get("id")
    if dtype is not None and dtype.is_integer():
        as_int = raw.cast(pl.Int64, strict=False)
    else:  # via text, so 1.5, 3.0, true and "abc" fail the parse instead of being truncated
        as_int = raw.cast(pl.String).cast(pl.Int64, strict=False)
    return pl.when(as_int >= 1).then(as_int)


def number_expr(name: str, data_fields: dict[str, pl.DataType]) -> tuple[pl.Expr, pl.Expr | None]:
    """The field as Float64 and, for text input, where a non-null value failed to convert."""
    raw, dtype = field_expr(name, data_fields), data_fields.get(name)
    if dtype is None or dtype.is_numeric() or dtype == pl.Null:
        return raw.cast(pl.Float64), None
    value = raw.cast(pl.String).cast(pl.Float64, strict=False)
    return value, raw.is_not_null() & value.is_null()


def typed_beers(records: pl.DataFrame, ids: pl.Series) -> pl.DataFrame:
    """`CLEANED_SCHEMA` rows of envelope rows (already judged good) with their ids."""
    data_fields = data_fields_of(records)
    return records.select(
        id=ids, name=field_expr("name", data_fields),
        **{name: number_expr(name, data_fields)[0] for name in NUMERIC_FIELDS},
    ).cast(dict(CLEANED_SCHEMA))  # fmt: skip


def find_anomalies(beers: pl.DataFrame) -> dict[str, list[int]]:
    """Ids per kind of implausible published value (every kind present, possibly empty)."""
    return {kind: beers.filter(check)["id"].sort().to_list() for kind, check in ANOMALIES.items()}


def anomalies(beers: pl.DataFrame) -> pl.DataFrame:
    """One row (id, anomaly) per implausible published value."""
    found = [beers.filter(check).select("id", anomaly=pl.lit(kind)) for kind, check in ANOMALIES.items()]
    return pl.concat(found).sort("id", "anomaly")


def data_error_expr() -> pl.Expr:
    """True where values are wrong rather than unusual: ibu == target_og, or ph outside 0-14."""
    wrong = (pl.col("ibu") == pl.col("target_og")) | ~pl.col("ph").is_between(0, 14)
    return wrong.fill_null(False).alias("is_data_error")


def data_fields_of(frame: pl.DataFrame) -> dict[str, pl.DataType]:
    dtype = frame.schema.get("data")
    return dict(dtype.to_schema()) if isinstance(dtype, pl.Struct) else {}
