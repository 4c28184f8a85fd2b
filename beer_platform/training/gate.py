"""Whether a newly trained model may replace the one in the store."""

from __future__ import annotations

from dataclasses import dataclass, field

# A new model may be at most this much worse (in cross-validated MAE) than the current one:
# retraining on a new day's data moves the figures a little without anything being wrong.
MAE_TOLERANCE = 0.05


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
    """`judge` for each model by name (e.g. the card and the recipe model, saved together): all must
    pass, each against the current model of the same name; every reason names its model."""
    reasons = []
    for name, metrics in candidates.items():
        verdict = judge(metrics, (current or {}).get(name), tolerance)
        reasons += [f"{name} model: {reason}" for reason in verdict.reasons]
    return Verdict(passed=not reasons, reasons=reasons)
