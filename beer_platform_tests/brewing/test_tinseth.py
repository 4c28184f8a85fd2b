"""The Tinseth estimate: worked examples, and what each kind of addition contributes."""

from __future__ import annotations

import pytest

from beer_platform.brewing import tinseth
from beer_platform.brewing.recipes import parse_recipe
from beer_platform.local.punkapi_replica import load_beers


@pytest.mark.parametrize(
    ("minutes", "original_gravity", "expected"),
    [(60, 1.050, 32.3), (30, 1.050, 24.8), (60, 1.080, 24.7), (0, 1.050, 0.0)],
)
def test_worked_example_28_g_of_10_pct_hops_in_20_litres(minutes: float, original_gravity: float, expected: float) -> None:
    assert round(tinseth.addition_ibu(10.0, 28.0, 20.0, original_gravity, minutes), 1) == expected


def test_a_recipe_is_the_sum_of_its_additions() -> None:
    additions = [(10.0, 28.0, 60), (10.0, 28.0, 30), (12.5, 100.0, 0)]  # the last: a dry hop
    assert tinseth.recipe_ibu(additions, 20.0, 1.050) == pytest.approx(32.3 + 24.8, abs=0.1)
    assert tinseth.recipe_ibu([], 20.0, 1.050) == 0.0


def test_twice_the_volume_halves_the_estimate_and_longer_boils_saturate() -> None:
    in_20 = tinseth.addition_ibu(10.0, 28.0, 20.0, 1.050, 60)
    assert tinseth.addition_ibu(10.0, 28.0, 40.0, 1.050, 60) == pytest.approx(in_20 / 2)
    assert tinseth.addition_ibu(10.0, 28.0, 20.0, 1.050, 90) < in_20 * 1.1


def test_alpha_per_kind_of_addition() -> None:
    assert tinseth.addition_alpha_pct("hop", "simcoe") == 13.0
    assert tinseth.addition_alpha_pct("blend", "bramling cross+first gold") == pytest.approx((6.5 + 7.8) / 2)
    assert tinseth.addition_alpha_pct("extract", None) == tinseth.EXTRACT_ALPHA_ACID_PCT == 50.0
    assert tinseth.addition_alpha_pct("not_a_hop", None) == 0.0
    with pytest.raises(ValueError, match="variety"):
        tinseth.addition_alpha_pct("hop", None)


def test_each_parsed_addition_of_buzz_gets_its_share() -> None:
    buzz = parse_recipe(load_beers()[0])  # 20 L at OG 1.044: Fuggles 4.3%, First Gold 7.8%, Cascade 7%
    shares = tinseth.addition_estimates(buzz.hops, 20.0, 1.044)
    expected = [(4.3, 25, 60), (7.8, 25, 60), (4.3, 37.5, 30), (7.8, 37.5, 30), (7.0, 37.5, 5)]
    assert shares == pytest.approx([tinseth.addition_ibu(a, g, 20.0, 1.044, m) for a, g, m in expected])
    dry = parse_recipe({"ingredients": {"hops": [
        {"name": "Citra", "amount": {"value": 100, "unit": "grams"}, "add": "dry hop"},
        {"name": "Cold Brew Coffee", "amount": {"value": 160, "unit": "ml"}, "add": "start"},
    ]}})  # fmt: skip
    assert tinseth.addition_estimates(dry.hops, 20.0, 1.05) == [0.0, 0.0]
