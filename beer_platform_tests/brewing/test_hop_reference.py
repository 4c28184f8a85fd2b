"""Hop names: every name the real dataset uses is classified; anything else is no match."""

from __future__ import annotations

from collections import Counter

import pytest

from beer_platform.brewing import hop_reference
from beer_platform.brewing.hop_reference import HopMatch, match_hop
from beer_platform.local.punkapi_replica import load_beers


def test_every_hop_name_in_the_dataset_is_classified() -> None:
    additions = Counter(hop["name"] for beer in load_beers() for hop in beer["ingredients"]["hops"])
    matches = {name: match_hop(name) for name in additions}
    assert [name for name, match in matches.items() if match is None] == []
    kinds = Counter()
    for name, match in matches.items():
        kinds[match.kind] += additions[name]
    assert sum(kinds.values()) == 1817 and len(additions) == 166
    # SOURCE.md: 14 extract additions; every other kind present
    assert kinds["extract"] == 14 and kinds["hop"] > 1500 and kinds["blend"] == 2 and kinds["not_a_hop"] > 0


def test_the_reference_counts_agree_with_the_dataset() -> None:
    additions = Counter(hop["name"] for beer in load_beers() for hop in beer["ingredients"]["hops"])
    assert {row["name_in_dataset"]: row["additions"] for row in hop_reference.rows()} == dict(additions)


def test_hops_and_blends_have_an_alpha_extracts_and_non_hops_none() -> None:
    rows = hop_reference.rows()
    assert {row["kind"] for row in rows if row["typical_alpha_acid_pct"] is not None} == {"blend", "hop"}
    assert all(row["variety"] for row in rows if row["kind"] in ("hop", "blend"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Simcoe", HopMatch("hop", "simcoe", 13.0)),
        ("simcoe ", HopMatch("hop", "simcoe", 13.0)),
        ("Hallertauer Mittelfruh", HopMatch("hop", "hallertau mittelfruh", 4.3)),  # no umlaut
        ("Mt. Hood", HopMatch("hop", "mount hood", 6.0)),
        ("Fuggle", HopMatch("hop", "fuggle", 4.3)),  # the variety's own name
        ("HBC 369", HopMatch("hop", "mosaic", 12.5)),
        ("Bramling Cross/First Gold", HopMatch("blend", "bramling cross+first gold", 7.15)),
        ("Columbus Extract", HopMatch("extract", None, None)),
        ("Cocoa Nibs", HopMatch("not_a_hop", None, None)),
    ],
)
def test_names_match_ignoring_case_accents_and_punctuation(name: str, expected: HopMatch) -> None:
    assert match_hop(name) == expected


@pytest.mark.parametrize("name", ["Galxy", "", "Citra Extract", "Strawberry", "Cascade Cascade"])
def test_a_name_the_reference_does_not_know_is_no_match(name: str) -> None:
    assert match_hop(name) is None


def test_alpha_by_variety_and_known_names() -> None:
    assert hop_reference.alpha_acid_pct("equinox") == 15.0
    assert hop_reference.alpha_acid_pct("bramling cross+first gold") == 7.15
    with pytest.raises(KeyError):
        hop_reference.alpha_acid_pct("galxy")
    names = hop_reference.known_names()
    assert len(names) == 166 and "Galaxy" in names and names == sorted(names, key=str.casefold)
