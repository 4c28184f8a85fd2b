"""What every asset of the platform shares: ownership, and the cleaned table's column schema."""

from __future__ import annotations

from dagster import AutomationCondition, TableColumn, TableSchema

OWNERS = ["team:data-platform"]

COLUMN_DESCRIPTIONS = {
    "id": "PunkAPI beer id",
    "name": "Beer name",
    "abv": "Alcohol by volume, %",
    "ibu": "International bitterness units",
    "target_fg": "Target final gravity",
    "target_og": "Target original gravity",
    "ebc": "Colour, European Brewery Convention",
    "srm": "Colour, Standard Reference Method",
    "ph": "pH",
}


def column_schema(schema: dict) -> TableSchema:
    return TableSchema(
        columns=[
            TableColumn(name, str(dtype).lower(), description=COLUMN_DESCRIPTIONS.get(name))
            for name, dtype in schema.items()
        ]
    )


# Downstream assets follow their parents as soon as those update (and their checks pass).
EAGER = AutomationCondition.eager()


def markdown_table(frame) -> str:
    """A small polars frame as a Markdown table, for previews in the UI."""
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    rows = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *rows])
