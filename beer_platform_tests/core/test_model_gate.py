from beer_platform.core.model_gate import judge

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
