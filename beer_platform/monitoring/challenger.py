"""Whether a newly trained model may replace the live one: the challenger against the champion.

Two comparisons, each made where it means something:
- cross-validated MAE, model by model (card, recipe): only when both were trained on the same
  rows (the same data version), since the folds are a function of the rows; on other rows the
  two figures measure different things and are not compared;
- the logged predictions of the live model for beers whose true IBU the catalogue gives: the
  live model's answers against the challenger's on the very same inputs (at least
  `MIN_LOGGED` of them).
The challenger is released when it is at least as good on every comparison made; when none can
be made, the release gate's verdict stands (`training.gate`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

MIN_LOGGED = 10


@dataclass(frozen=True)
class Logged:
    """The live model's logged answers with a known IBU, and the challenger's on the same inputs."""

    known: int
    live_mae: float
    challenger_mae: float


@dataclass(frozen=True)
class Comparison:
    release: bool
    reasons: list[str]
    figures: dict[str, float | int | bool | str] = field(default_factory=dict)  # flat, the same keys each time


def compare(challenger: dict[str, dict[str, float]], live: dict[str, dict[str, float]] | None, same_rows: bool,
            logged: Logged | None) -> Comparison:  # fmt: skip
    """`challenger` and `live`: each model's metrics by name (`cv_mae` among them); `live` None
    when its figures are unknown; `same_rows`: both trained on the same data version."""
    worse: list[str] = []
    made: list[str] = []
    figures: dict[str, float | int | bool | str] = {"challenger_same_rows": same_rows}
    for name in ("card", "recipe"):
        ours, theirs = challenger.get(name, {}).get("cv_mae"), (live or {}).get(name, {}).get("cv_mae")
        figures[f"challenger_{name}_cv_mae"] = float("nan") if ours is None else ours
        figures[f"live_{name}_cv_mae"] = float("nan") if theirs is None else theirs
        if same_rows and ours is not None and theirs is not None:
            made.append(f"{name} CV MAE {ours:.2f} against {theirs:.2f} on the same folds")
            if ours > theirs:
                worse.append(f"{name} model: CV MAE {ours:.2f} is worse than the live model's {theirs:.2f} on the same folds")
    figures |= {"logged_known": logged.known if logged else 0,
                "challenger_logged_mae": logged.challenger_mae if logged else float("nan"),
                "live_logged_mae": logged.live_mae if logged else float("nan")}  # fmt: skip
    if logged is not None and logged.known >= MIN_LOGGED:
        made.append(f"MAE {logged.challenger_mae:.2f} against {logged.live_mae:.2f} on {logged.known} logged beers")
        if logged.challenger_mae > logged.live_mae:
            worse.append(f"MAE {logged.challenger_mae:.2f} on the {logged.known} logged beers with a known IBU is worse "
                         f"than the live model's {logged.live_mae:.2f}")  # fmt: skip
    if worse:
        return Comparison(False, worse, figures)
    if not made:
        why = "no live model's figures" if live is None else "trained on other rows, and too few logged beers"
        return Comparison(True, [f"nothing to compare ({why}): the release gate's verdict stands"], figures)
    return Comparison(True, [f"at least as good: {'; '.join(made)}"], figures)
