from beer_platform.training.gate import judge, judge_models

GOOD = {"cv_mae": 16.4, "baseline_cv_mae": 26.2, "cv_r2": 0.48, "baseline_cv_r2": -0.01}


def test_a_model_that_beats_the_baseline_with_no_current_model_passes():
    assert judge(GOOD, None).passed


def test_a_model_no_better_than_the_mean_predictor_fails_and_says_why():
    verdict = judge({**GOOD, "cv_mae": 27.0, "cv_r2": -0.02}, None)
    assert not verdict.passed
    assert any("mean predictor" in reason for reason in verdict.reasons)


def test_up_to_five_percent_worse_than_the_current_model_is_tolerated():
    assert judge({**GOOD, "cv_mae": 16.4 * 1.05}, {"cv_mae": 16.4}).passed
    verdict = judge({**GOOD, "cv_mae": 17.3}, {"cv_mae": 16.4})
    assert not verdict.passed and "by more than 5%" in verdict.reasons[0]


def test_both_models_are_judged_each_against_its_own_current_one():
    current = {"card": {"cv_mae": 16.4}, "recipe": {"cv_mae": 12.2}}
    assert judge_models({"card": GOOD, "recipe": {**GOOD, "cv_mae": 12.3}}, current).passed
    assert judge_models({"card": GOOD, "recipe": GOOD}, None).passed
    verdict = judge_models({"card": GOOD, "recipe": GOOD}, current)  # the recipe model fell to 16.4
    assert not verdict.passed and verdict.reasons == [
        "recipe model: cv_mae 16.40 is worse than the current model's 12.20 by more than 5% (limit 12.81)"
    ]
    verdict = judge_models({"card": {**GOOD, "cv_mae": 27.0}, "recipe": GOOD}, {"card": {"cv_mae": 16.4}})
    assert not verdict.passed and all(reason.startswith("card model: ") for reason in verdict.reasons)
