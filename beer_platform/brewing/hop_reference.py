"""The hop reference data: what each hop name in a recipe is, and its typical alpha acids.

Pure: reads only the shipped `data/hop_alpha_acids.csv` (provenance in `data/SOURCE.md`, a copy
of `shared/data/hops/`). One row per name the PunkAPI dataset uses in `ingredients.hops`, with
its kind (`KINDS`), the variety it was matched to and that variety's typical alpha-acid %.

`match_hop` looks a name up. A name is compared with accents, case and punctuation ignored
("Hallertauer Mittelfruh" is "Hallertauer Mittelfrüh", "mt hood" is "Mt.Hood"), against the
names in the table and the varieties' own names ("Fuggle", "Magnum GR"). Anything else is no
match (None): a caller reports it, it never becomes a hop with no bitterness.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import unicodedata
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal

HopKind = Literal["hop", "blend", "extract", "not_a_hop"]
# hop: one variety; blend: two varieties in one addition (alpha = their mean); extract: hop
# extract, no variety alpha known; not_a_hop: fruit, spice, sugar, wood... listed among the hops.
KINDS: tuple[HopKind, ...] = ("hop", "blend", "extract", "not_a_hop")
HOP_KINDS: frozenset[HopKind] = frozenset({"hop", "blend", "extract"})  # the kinds with alpha acids

COLUMNS: tuple[str, ...] = ("name_in_dataset", "additions", "kind", "variety", "typical_alpha_acid_pct")


@dataclass(frozen=True)
class HopMatch:
    """What a hop name was matched to. `variety` and `alpha_acid_pct` are None for extracts and
    non-hops (an extract's alpha is an assumption of whoever uses it, see `tinseth`)."""

    kind: HopKind
    variety: str | None
    alpha_acid_pct: float | None


def _source() -> bytes:
    return resources.files("beer_platform.brewing").joinpath("data/hop_alpha_acids.csv").read_bytes()


@functools.cache
def rows() -> tuple[dict[str, Any], ...]:
    """The shipped table, one row per hop name of the dataset (`COLUMNS`; an empty cell is None)."""
    parsed = []
    for row in csv.DictReader(io.StringIO(_source().decode("utf-8"))):
        if tuple(row) != COLUMNS:
            raise ValueError(f"hop reference columns {tuple(row)}, expected {COLUMNS}")
        if row["kind"] not in KINDS:
            raise ValueError(f"hop reference: unknown kind {row['kind']!r} for {row['name_in_dataset']!r}")
        alpha = row["typical_alpha_acid_pct"]
        parsed.append({
            "name_in_dataset": row["name_in_dataset"],
            "additions": int(row["additions"]),
            "kind": row["kind"],
            "variety": row["variety"] or None,
            "typical_alpha_acid_pct": float(alpha) if alpha else None,
        })  # fmt: skip
    return tuple(parsed)


# Bounded: a day of records repeats a few hundred names; the cache keeps the lake from normalising each.
@functools.lru_cache(maxsize=8192)
def match_hop(name: str) -> HopMatch | None:
    """The reference entry for `name` (spelling as in the dataset, or a variety's name), or None."""
    return _index().get(normalise(name))


def known_names() -> list[str]:
    """Every name the reference knows, as the dataset spells it, sorted case-insensitively."""
    return sorted((row["name_in_dataset"] for row in rows()), key=str.casefold)


def names_of_kinds(kinds: frozenset[HopKind] | set[HopKind]) -> list[str]:
    """The names (as the dataset spells them) of the given kinds, sorted case-insensitively."""
    return sorted((row["name_in_dataset"] for row in rows() if row["kind"] in kinds), key=str.casefold)


def alpha_acid_pct(variety: str) -> float:
    """The typical alpha-acid % of a matched variety (a blend's `a+b` included); KeyError otherwise."""
    return _alpha_by_variety()[variety]


def normalise(name: str) -> str:
    """Lower-case ASCII words: accents dropped, every run of punctuation or space one space."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(re.split(r"[^a-z0-9]+", ascii_name.lower())).strip()


@functools.cache
def _index() -> dict[str, HopMatch]:
    index: dict[str, HopMatch] = {}
    for row in rows():
        match = HopMatch(row["kind"], row["variety"], row["typical_alpha_acid_pct"])
        index[normalise(row["name_in_dataset"])] = match
        if row["kind"] == "hop":  # a variety's own name (not a blend's "a+b") is a name too
            index.setdefault(normalise(row["variety"]), match)
    return index


@functools.cache
def _alpha_by_variety() -> dict[str, float]:
    return {row["variety"]: row["typical_alpha_acid_pct"] for row in rows() if row["variety"] is not None}
