"""A beer's recipe from a PunkAPI record: hop additions, volumes, attenuation, strictly validated.

Pure: no I/O. The record is the PunkAPI v2 beer object as published (the `data` of a raw-zone
envelope) or a request record of the same shape; only the recipe fields are read:

    volume, boil_volume          {"value": 20, "unit": "litres"}        (optional)
    attenuation_level            75                                      (optional, %)
    ingredients.hops             [{"name": "Fuggles", "amount": {"value": 25, "unit": "grams"},
                                   "add": "start", "attribute": "bitter"}, ...]  (optional)

`parse_recipe` returns a `Recipe` or raises `RecipeError` listing every problem, each named by
its path like the API's 400s (`[0].ingredients.hops[2].name: unknown hop variety 'Galxy'`).

Hop amounts are converted to grams (`MASS_UNITS`: the dataset has grams and kilogram). Two
published non-hops are not weighed ("Cold Brew Coffee" 160 ml, "1 lemon drop chilli" 1 total):
`NON_MASS_UNITS` are accepted for a non-hop only, whose grams are then unknown (None); a hop
must be weighed. The `add` says when (`boil_minutes`): start 60, middle 30, end / flame out /
whirlpool / kettle 5, first wort hops 60 (boiled all along), a number is minutes as given;
dry hop / fv / secondary / maturation / wood ageing are added cold (0 minutes, `dry_hop`); mash
is 0 minutes (never boiled with the wort); "Additions" (one sugar in the dataset) names no time
(None), which only a non-hop may have.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from beer_platform.brewing.hop_reference import HOP_KINDS, HopKind, HopMatch, match_hop, normalise

RECIPE_FIELDS: tuple[str, ...] = ("volume", "boil_volume", "attenuation_level", "ingredients")  # what is read
MASS_UNITS: dict[str, float] = {"grams": 1.0, "gram": 1.0, "g": 1.0, "kilograms": 1000.0, "kilogram": 1000.0, "kg": 1000.0}
NON_MASS_UNITS: frozenset[str] = frozenset({"ml", "total"})
VOLUME_UNITS: dict[str, float] = {"litres": 1.0, "litre": 1.0, "liters": 1.0, "liter": 1.0, "l": 1.0}

# add (normalised) -> (boil minutes or None, added cold). Every spelling the dataset uses.
ADD_STAGES: dict[str, tuple[float | None, bool]] = {
    "start": (60.0, False),
    "first wort hops": (60.0, False),
    "middle": (30.0, False),
    "end": (5.0, False),
    "flame out": (5.0, False),
    "flameout": (5.0, False),
    "whirlpool": (5.0, False),
    "kettle": (5.0, False),
    "mash": (0.0, False),
    "dry hop": (0.0, True),
    "fv": (0.0, True),
    "fv addition": (0.0, True),
    "secondary": (0.0, True),
    "maturation": (0.0, True),
    "wood ageing": (0.0, True),
    "additions": (None, False),
}
_MINUTES = re.compile(r"(\d+(?:\.\d+)?)(?: ?min(?:ute)?s?)?")
MAX_BOIL_MINUTES = 300.0  # the dataset's longest is 90
# Generous physical bounds, so that nothing a client sends turns into an infinite estimate.
MAX_GRAMS = 10_000_000.0  # 10 tonnes in one addition
MIN_LITRES, MAX_LITRES = 0.1, 1_000_000.0
MAX_NAME_LENGTH = 200
MAX_ATTENUATION = 200.0  # % (apparent attenuation can pass 100: the dataset has up to 102.3)


@dataclass(frozen=True)
class HopAddition:
    """One entry of `ingredients.hops`: as published, matched and converted.

    `kind` and `variety` are None for a name the reference does not know (only when parsed with
    `known_names_only=False`); `grams` is None for a non-hop in a unit that is not a mass.
    """

    name: str
    kind: HopKind | None
    variety: str | None
    grams: float | None
    amount_value: float
    amount_unit: str
    add: str
    boil_minutes: float | None
    dry_hop: bool
    attribute: str | None


@dataclass(frozen=True)
class Recipe:
    """The recipe fields of a record. `hops` is None when the record carries no hop list
    (no recipe), empty when it lists none."""

    volume_litres: float | None
    boil_volume_litres: float | None
    attenuation_level: float | None
    hops: tuple[HopAddition, ...] | None


class RecipeError(ValueError):
    """Every problem of one record, as (path, message) pairs; str() joins them as 'path: message'."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{path}: {message}" for path, message in self.problems))


def parse_recipe(record: Mapping[str, Any], path: str = "", known_names_only: bool = True) -> Recipe:
    """The `Recipe` of a PunkAPI record; `RecipeError` naming each bad field under `path` (e.g. "[0]").

    With `known_names_only` (a request), a hop name the reference does not know is an error; without
    (the lake, where a check flags it), the addition is kept with kind and variety None.
    """
    problems: list[tuple[str, str]] = []
    if not _is_object(record):
        raise RecipeError([(path or "body", "a beer must be a JSON object")])
    volume = _volume(record.get("volume"), _join(path, "volume"), problems)
    boil_volume = _volume(record.get("boil_volume"), _join(path, "boil_volume"), problems)
    attenuation = _number(record.get("attenuation_level"), path, problems, 0.0, MAX_ATTENUATION, field="attenuation_level")
    hops = _hops(record.get("ingredients"), _join(path, "ingredients"), problems, known_names_only)
    if problems:
        raise RecipeError(problems)
    return Recipe(volume, boil_volume, attenuation, hops)


@functools.lru_cache(maxsize=8192)  # a day of records repeats a few dozen `add`s
def parse_add(add: str) -> tuple[float | None, bool] | None:
    """(boil minutes, added cold) for an `add` as published, or None if it cannot be read."""
    minutes = _MINUTES.fullmatch(" ".join(add.lower().split()))
    if minutes is not None:
        return float(minutes.group(1)), False
    return ADD_STAGES.get(normalise(add))


def _hops(
    ingredients: Any, path: str, problems: list[tuple[str, str]], known_names_only: bool
) -> tuple[HopAddition, ...] | None:
    if ingredients is None:
        return None
    if not _is_object(ingredients):
        problems.append((path, "must be an object"))
        return None
    hops = ingredients.get("hops")
    if hops is None:
        return None
    if not isinstance(hops, list):
        problems.append((f"{path}.hops", "must be a list"))
        return None
    additions = [_addition(hop, f"{path}.hops[{i}]", problems, known_names_only) for i, hop in enumerate(hops)]
    return tuple(addition for addition in additions if addition is not None)  # all of them, unless a problem


def _addition(hop: Any, path: str, problems: list[tuple[str, str]], known_names_only: bool) -> HopAddition | None:
    before = len(problems)
    if not _is_object(hop):
        problems.append((path, "must be an object with name, amount, add and attribute"))
        return None
    # the hop's path, its fields' paths made only for a problem: a request parses every hop of every recipe
    name, match = _name(hop.get("name"), path, problems, known_names_only)
    kind = match.kind if match is not None else None
    value, unit, grams = _amount(hop.get("amount"), path, kind, problems)
    add, stage = hop.get("add"), _stage(hop.get("add"), path, kind, problems)
    attribute = hop.get("attribute")
    if attribute is not None and not isinstance(attribute, str):
        problems.append((f"{path}.attribute", "must be a string or null"))
    if len(problems) > before or stage is None or value is None:
        return None
    return HopAddition(name=name, kind=kind, variety=match.variety if match is not None else None, grams=grams,
                       amount_value=value, amount_unit=unit, add=add, boil_minutes=stage[0], dry_hop=stage[1],
                       attribute=attribute)  # fmt: skip


def _name(name: Any, hop: str, problems: list[tuple[str, str]], known_names_only: bool) -> tuple[Any, HopMatch | None]:
    """The name and what it matched: a known hop, blend, extract or non-hop; None for no match."""
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_LENGTH:
        problems.append((f"{hop}.name", f"must be a non-empty string of at most {MAX_NAME_LENGTH} characters"))
        return name, None
    match = match_hop(name)
    if match is None and known_names_only:
        problems.append((f"{hop}.name", f"unknown hop variety {name!r}"))
    return name, match


def _amount(amount: Any, hop: str, kind: HopKind | None, problems: list[tuple[str, str]]
            ) -> tuple[float | None, Any, float | None]:  # fmt: skip
    """(value, unit as published, grams): grams None for a non-hop in a unit that is not a mass."""
    if not _is_object(amount):
        problems.append((f"{hop}.amount", "must be an object with value and unit"))
        return None, None, None
    value = _number(amount.get("value"), hop, problems, 0.0, math.inf, required=True, field="amount.value")
    unit = amount.get("unit")
    key = unit.strip().lower() if isinstance(unit, str) else None
    if key in MASS_UNITS:
        grams = None if value is None else value * MASS_UNITS[key]
        if grams is not None and grams > MAX_GRAMS:
            problems.append((f"{hop}.amount.value", f"must be at most {MAX_GRAMS:,.0f} grams"))
        return value, unit, grams
    if key not in NON_MASS_UNITS:
        problems.append((f"{hop}.amount.unit", f"unknown unit {unit!r}, expected one of {sorted(MASS_UNITS)}"))
    elif kind in HOP_KINDS:  # else a non-hop (or an unknown name, flagged as such): grams unknown, alpha nil
        problems.append((f"{hop}.amount.unit", f"{unit!r} is not a mass: a hop's amount is in grams or kilograms"))
    return value, unit, None


def _stage(add: Any, hop: str, kind: HopKind | None, problems: list[tuple[str, str]]
           ) -> tuple[float | None, bool] | None:  # fmt: skip
    """(boil minutes, added cold) of an `add`; None when it cannot be read."""
    if not isinstance(add, str):
        problems.append((f"{hop}.add", "must be a string such as 'start', 'end', 'dry hop' or '15'"))
        return None
    stage = parse_add(add)
    if stage is None:
        problems.append((f"{hop}.add", f"cannot read {add!r} as a time: expected start, middle, end, flame out, "
                                       "whirlpool, dry hop, ... or minutes of boil"))  # fmt: skip
    elif stage[0] is not None and stage[0] > MAX_BOIL_MINUTES:
        problems.append((f"{hop}.add", f"{stage[0]:g} minutes of boil is more than {MAX_BOIL_MINUTES:g}"))
        return None
    elif stage[0] is None and kind in HOP_KINDS:
        problems.append((f"{hop}.add", f"{add!r} gives no boil time, which a hop needs"))
    return stage


def _volume(volume: Any, path: str, problems: list[tuple[str, str]]) -> float | None:
    if volume is None:
        return None
    if not _is_object(volume):
        problems.append((path, "must be an object with value and unit, e.g. {'value': 20, 'unit': 'litres'}"))
        return None
    value = _number(volume.get("value"), path, problems, MIN_LITRES, MAX_LITRES, required=True, field="value")
    unit = volume.get("unit")
    factor = VOLUME_UNITS.get(unit.strip().lower()) if isinstance(unit, str) else None
    if factor is None:
        problems.append((f"{path}.unit", f"unknown unit {unit!r}, expected litres"))
        return None
    return None if value is None else value * factor


def _number(
    value: Any, path: str, problems: list[tuple[str, str]], low: float, high: float, required: bool = False,
    field: str = "",
) -> float | None:
    """`value` (at `field` under `path`) as a number within [low, high], or None with its problem."""
    if value is None and not required:
        return None
    number = _as_float(value)
    if number is not None and low <= number <= high:
        return number
    if number is None:
        problems.append((_join(path, field), "must be a number"))
    elif number < 0 <= low:
        problems.append((_join(path, field), f"must not be negative, got {number:g}"))
    else:
        problems.append((_join(path, field), f"must be between {low:,g} and {high:,.0f}, got {number:g}"))
    return None


def _as_float(value: Any) -> float | None:
    """A JSON number as a finite float; None for anything else (bool, text, NaN, inf, 10**400)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def _join(path: str, field: str) -> str:
    return f"{path}.{field}" if path and field else path or field


def _is_object(value: Any) -> bool:
    return type(value) is dict or isinstance(value, Mapping)  # a parsed body's are dicts: no ABC check
