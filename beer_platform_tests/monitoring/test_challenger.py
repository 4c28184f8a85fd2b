"""The challenger against the live model: released only when at least as good on every
comparison that means something; the logged inputs answered again exactly as the model saw them."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import numpy as np
import pytest

from beer_platform.lake import raw_format
from beer_platform.lake.predictions import events
from beer_platform.local.punkapi_replica import load_beers
from beer_platform.monitoring.challenger import Logged, compare
from beer_platform.serving.prediction_log import Answered, packed_logged
from beer_platform.serving.schemas import parse_predict, predict_now, response_json
from beer_platform.stages.challenger import answers
from beer_platform.stream.records import ReceivedRecord
from beer_platform_tests.shipped_model import shipped_models

LIVE = {"card": {"cv_mae": 16.0}, "recipe": {"cv_mae": 12.1}}


def test_a_challenger_worse_on_the_same_folds_is_not_released():
    verdict = compare({"card": {"cv_mae": 15.9}, "recipe": {"cv_mae": 12.4}}, LIVE, same_rows=True, logged=None)
    assert not verdict.release and verdict.reasons == [
        "recipe model: CV MAE 12.40 is worse than the live model's 12.10 on the same folds"]
    assert verdict.figures["challenger_recipe_cv_mae"] == 12.4 and verdict.figures["live_recipe_cv_mae"] == 12.1


def test_a_challenger_at_least_as_good_everywhere_is_released():
    verdict = compare({"card": {"cv_mae": 16.0}, "recipe": {"cv_mae": 12.0}}, LIVE, same_rows=True,
                      logged=Logged(40, live_mae=5.0, challenger_mae=4.5))  # fmt: skip
    assert verdict.release and verdict.reasons[0].startswith("at least as good")
    assert verdict.figures["logged_known"] == 40


def test_on_other_rows_the_cv_figures_are_not_compared_but_the_logged_beers_are():
    better_cv_other_rows = {"card": {"cv_mae": 10.0}, "recipe": {"cv_mae": 9.0}}
    assert compare(better_cv_other_rows, LIVE, same_rows=False, logged=Logged(12, 5.0, 6.0)).release is False
    worse_cv_other_rows = {"card": {"cv_mae": 19.0}, "recipe": {"cv_mae": 14.0}}
    assert compare(worse_cv_other_rows, LIVE, same_rows=False, logged=Logged(12, 5.0, 4.0)).release is True


def test_too_few_logged_beers_and_other_rows_leave_the_gates_verdict():
    verdict = compare({"card": {"cv_mae": 19.0}}, LIVE, same_rows=False, logged=Logged(3, 1.0, 50.0))
    assert verdict.release and "nothing to compare" in verdict.reasons[0]
    nothing_live = compare({"card": {"cv_mae": 19.0}}, None, same_rows=False, logged=None)
    assert nothing_live.release and math.isnan(nothing_live.figures["live_card_cv_mae"])


@pytest.fixture(scope="module")
def predictor():
    return shipped_models().compiled()


def test_the_logged_inputs_answered_again_give_the_logged_answers(predictor):
    beers = load_beers()[:40]  # card fields and recipes, as a client would post whole PunkAPI records
    body = json.dumps(beers[:20] + [{k: v for k, v in b.items() if k != "ingredients"} for b in beers[20:]]).encode()
    answer = predict_now(predictor, parse_predict(body))
    response = response_json(answer, "ibu_model:live")
    (_, blob), = packed_logged([Answered("r1", "server", 1.8e9, 1.0, len(answer), body, response)])
    arrived = datetime(2026, 12, 6, 12, tzinfo=UTC)
    part = raw_format.encode_part([raw_format.envelope_line(ReceivedRecord("s", "1", arrived, "r1", blob))])
    frame = events(part)
    assert sorted(set(frame["answered_by"])) == ["card", "recipe"]
    np.testing.assert_allclose(answers(predictor, frame), frame["ibu"].to_numpy(), atol=0.005)  # answers: 2 decimals
