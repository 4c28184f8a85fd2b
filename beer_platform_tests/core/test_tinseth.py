"""The Tinseth estimate: worked examples, and what each kind of addition contributes."""

from __future__ import annotations

import pytest

from beer_platform.core import tinseth


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
