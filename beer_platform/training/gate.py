"""Whether a newly trained model may replace the one in the store."""

from __future__ import annotations

from dataclasses import dataclass, field

from beer_platform.predict.predictor import RECIPE
from beer_platform.training import physics

# A new model may be at most this much worse (in cross-validated MAE) than the current one:
# retraining on a new day's data moves the figures a little without anything being wrong.
MAE_TOLERANCE = 0.05
# The share of recipes with boiled hops on which the recipe model must follow the physics, at
# each of `physics.FACTORS` and with all hops removed.
PHYSICS_MIN_SHARE = 0.98


@dataclass(frozen=True)
class Verdict:
    passed: bool
    reasons: list[str] = field(default_factory=list)


def judge(candidate: dict[str, float], current: dict[str, float] | None, tolerance: float = MAE_TOLERANCE) -> Verdict:
    """The candidate must beat the mean predictor, and stay within `tolerance` of the current MAE."""
    reasons = []
    if not candidate["cv_mae"] < candidate["baseline_cv_mae"]:
        reasons.append(
            f"cv_mae {candidate['cv_mae']:.2f} does not beat the mean predictor's {candidate['baseline_cv_mae']:.2f}"
        )
    if not candidate["cv_r2"] > candidate["baseline_cv_r2"]:
        reasons.append(f"cv_r2 {candidate['cv_r2']:.3f} does not beat the mean predictor's {candidate['baseline_cv_r2']:.3f}")
    if current is not None and "cv_mae" in current:
        limit = current["cv_mae"] * (1 + tolerance)
        if candidate["cv_mae"] > limit:
            reasons.append(
                f"cv_mae {candidate['cv_mae']:.2f} is worse than the current model's {current['cv_mae']:.2f} "
                f"by more than {tolerance:.0%} (limit {limit:.2f})"
            )
    return Verdict(passed=not reasons, reasons=reasons)


def judge_models(
    candidates: dict[str, dict[str, float]], current: dict[str, dict[str, float]] | None,
    tolerance: float = MAE_TOLERANCE,
) -> Verdict:
    """`judge` for each model by name (e.g. the card and the recipe model, saved together), and
    `judge_physics` for the recipe model: all must pass, each against the current model of the same
    name; every reason names its model."""
    reasons = []
    for name, metrics in candidates.items():
        verdict = judge(metrics, (current or {}).get(name), tolerance)
        found = verdict.reasons + (judge_physics(metrics) if name == RECIPE else [])
        reasons += [f"{name} model: {reason}" for reason in found]
    return Verdict(passed=not reasons, reasons=reasons)


def judge_physics(metrics: dict[str, float], minimum: float = PHYSICS_MIN_SHARE) -> list[str]:
    """Why the model does not follow the physics (`physics.figures` among its metrics), if it does not:
    at every factor and with all hops removed, at least `minimum` of the recipes with boiled hops."""
    names = physics.figure_names()
    if not all(name in metrics for name in names):
        return [f"the physics was not measured (no {', '.join(name for name in names if name not in metrics)})"]
    recipes = int(metrics.get("physics_recipes", 0))
    changes = [f"every boil addition x{factor:g} predicts more IBU" for factor in physics.FACTORS]
    changes.append("no hops at all predicts less IBU")
    return [
        f"{name}: {change} for {metrics[name]:.1%} of the {recipes} recipes with boiled hops, not {minimum:.0%}"
        for name, change in zip(names, changes, strict=True)
        if not metrics[name] >= minimum
    ]
