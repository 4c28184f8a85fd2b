from beer_platform.training.gate import judge, judge_models, judge_physics

GOOD = {"cv_mae": 16.4, "baseline_cv_mae": 26.2, "cv_r2": 0.48, "baseline_cv_r2": -0.01}
PHYSICAL = {"physics_x1_5": 0.99, "physics_x2": 1.0, "physics_x3": 0.98, "physics_none": 1.0, "physics_recipes": 320.0}


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
    recipe = {**GOOD, **PHYSICAL}
    assert judge_models({"card": GOOD, "recipe": {**recipe, "cv_mae": 12.3}}, current).passed
    assert judge_models({"card": GOOD, "recipe": recipe}, None).passed
    verdict = judge_models({"card": GOOD, "recipe": recipe}, current)  # the recipe model fell to 16.4
    assert not verdict.passed and verdict.reasons == [
        "recipe model: cv_mae 16.40 is worse than the current model's 12.20 by more than 5% (limit 12.81)"
    ]
    verdict = judge_models({"card": {**GOOD, "cv_mae": 27.0}, "recipe": recipe}, {"card": {"cv_mae": 16.4}})
    assert not verdict.passed and all(reason.startswith("card model: ") for reason in verdict.reasons)


def test_the_recipe_model_must_follow_the_physics_at_every_factor_and_without_hops():
    assert judge_physics(PHYSICAL) == []
    assert judge_physics({**PHYSICAL, "physics_x1_5": 0.975, "physics_none": 0.5}) == [
        "physics_x1_5: every boil addition x1.5 predicts more IBU for 97.5% of the 320 recipes with boiled hops, "
        "not 98%",
        "physics_none: no hops at all predicts less IBU for 50.0% of the 320 recipes with boiled hops, not 98%",
    ]
    verdict = judge_models({"card": GOOD, "recipe": {**GOOD, **PHYSICAL, "physics_x3": 0.9}}, None)
    assert not verdict.passed and verdict.reasons[0].startswith("recipe model: physics_x3: every boil addition x3 ")


def test_a_recipe_model_whose_physics_was_not_measured_is_refused():
    verdict = judge_models({"card": GOOD, "recipe": GOOD}, None)  # the card model has no hops to follow
    assert verdict.reasons == [
        "recipe model: the physics was not measured (no physics_x1_5, physics_x2, physics_x3, physics_none)"
    ]
