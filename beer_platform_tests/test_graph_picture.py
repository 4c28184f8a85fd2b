"""The README's picture of the asset graph is the graph the code defines."""

from __future__ import annotations

import dagster as dg

from beer_platform.definitions import build_definitions
from beer_platform.graph_picture import README, mermaid, pictured_in
from beer_platform.lake.tables import TABLES
from beer_platform.settings import load_settings
from beer_platform_tests.beer_styles import STYLES


def _defs(tmp_path, tables=TABLES) -> dg.Definitions:
    return build_definitions(load_settings({"BEER_PLATFORM_STACK_DIR": str(tmp_path)}), tables=tables)


def test_the_readme_pictures_the_asset_graph_the_code_defines(tmp_path):
    assert pictured_in(README.read_text()) == mermaid(_defs(tmp_path)), (
        "README.md's asset graph differs from the code's: .venv/bin/python -m beer_platform.graph_picture --write"
    )


def test_a_declared_table_shows_up_in_the_picture_with_its_arrows(tmp_path):
    picture = mermaid(_defs(tmp_path, (*TABLES, STYLES)))
    assert 'cleaned_beer_styles["cleaned_beer_styles<br/><i>parquet, polars, s3, per day</i>"]' in picture
    assert "  cleaned_beers --> cleaned_beer_styles\n" in picture
    assert "  cleaned_beer_styles --> beer_styles_table\n" in picture
    assert 'punkapi(["punkapi<br/><i>api</i>"])' in picture  # a source, drawn rounded
