"""Which images a release removes from the engine: those of this function's earlier releases only."""

from __future__ import annotations

from beer_platform.deployment.lambda_api import release_description
from beer_platform.deployment.release import superseded_images


def _release(image_id: str) -> str:
    return release_description("ibu_model:v", f"registry/repo@sha256:{'0' * 64}", f"sha256:{image_id * 6}")


def test_earlier_releases_images_go_but_the_live_one_and_the_rollback_target_stay():
    versions = {1: "terraform's placeholder", 2: _release("aa"), 3: _release("bb"), 4: _release("cc"),
                5: _release("bb")}  # fmt: skip
    # live is 5 (bb), a rollback would go to 4 (cc): the first release's image is the only one superseded
    assert superseded_images(versions, {"sha256:" + "bb" * 32, "cc" * 6}) == ["aa" * 6]


def test_images_no_release_of_this_function_names_are_left_alone():
    # another checkout's or a test's own image in the same engine is not in this function's versions
    assert superseded_images({2: _release("aa")}, {"aa" * 6}) == []
    assert superseded_images({}, set()) == []
