"""The Tinseth estimate of bitterness: the physics of hop isomerisation in the boil.

Per addition (Glenn Tinseth's formula, as in the field notes):

    IBU = alpha% / 100 x grams x 1000 / litres            (mg of alpha acids per litre of wort)
          x 1.65 x 0.000125 ** (OG - 1)                   (bigness: dense wort isomerises less)
          x (1 - e ** (-0.04 x minutes)) / 4.15           (boil time: 0 at 0 min, ~0.24 at most)

with OG a specific gravity (1.056, not the catalogue's 1056), litres the batch (post-boil)
volume and minutes the boil time (`recipe.boil_minutes`: a dry hop is 0, so 0 IBU). A recipe's
estimate is the sum over its additions.

Which alpha each kind of addition has (`addition_alpha_pct`):
- hop: the variety's typical alpha-acid % from the reference (`hop_reference`);
- blend (two varieties in one addition): the mean of the two, i.e. equal parts, as the
  reference lists it; the dataset never says the split;
- extract: `EXTRACT_ALPHA_ACID_PCT` = 50%, an assumption: the dataset names no variety alpha
  for its extracts, and pure CO2 hop extracts are typically 35-60% alpha acids; the middle of
  that range, with the same boil utilisation as hops;
- not a hop (fruit, spices, sugar, wood): 0, no alpha acids.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from beer_platform.brewing import hop_reference
from beer_platform.brewing.hop_reference import HopKind
from beer_platform.brewing.recipes import HopAddition

EXTRACT_ALPHA_ACID_PCT = 50.0


def bigness_factor(original_gravity: float) -> float:
    """Tinseth's gravity term; `original_gravity` as a specific gravity (1.050)."""
    return 1.65 * 0.000125 ** (original_gravity - 1.0)


def boil_time_factor(minutes: float) -> float:
    """Tinseth's time term: the share of alpha acids isomerised after `minutes` of boil."""
    return (1.0 - math.exp(-0.04 * minutes)) / 4.15


def addition_ibu(alpha_acid_pct: float, grams: float, litres: float, original_gravity: float, minutes: float) -> float:
    """IBU from one addition of `grams` at `alpha_acid_pct` boiled `minutes` in `litres` of wort."""
    milligrams_alpha_per_litre = alpha_acid_pct / 100.0 * grams * 1000.0 / litres
    return milligrams_alpha_per_litre * bigness_factor(original_gravity) * boil_time_factor(minutes)


def recipe_ibu(additions: Iterable[tuple[float, float, float]], litres: float, original_gravity: float) -> float:
    """The sum of `addition_ibu` over (alpha_acid_pct, grams, minutes) triples."""
    return sum(addition_ibu(alpha, grams, litres, original_gravity, minutes) for alpha, grams, minutes in additions)


def addition_alpha_pct(kind: HopKind, variety: str | None) -> float:
    """The alpha-acid % an addition is estimated with (see the module docstring for each kind)."""
    if kind == "extract":
        return EXTRACT_ALPHA_ACID_PCT
    if kind == "not_a_hop":
        return 0.0
    if variety is None:
        raise ValueError(f"a {kind} addition needs its matched variety")
    return hop_reference.alpha_acid_pct(variety)


def addition_estimates(additions: Iterable[HopAddition], litres: float, original_gravity: float) -> list[float]:
    """The IBU of each parsed addition (`recipes.parse_recipe`), in order: 0 for a dry hop, a
    non-hop or an addition with no boil time. A name the reference did not match is a ValueError."""
    estimates = []
    for addition in additions:
        if addition.kind is None:
            raise ValueError(f"hop {addition.name!r} matches nothing in the hop reference")
        alpha = addition_alpha_pct(addition.kind, addition.variety)
        if alpha == 0.0 or addition.dry_hop or not addition.boil_minutes:
            estimates.append(0.0)
        else:
            estimates.append(addition_ibu(alpha, addition.grams, litres, original_gravity, addition.boil_minutes))
    return estimates
