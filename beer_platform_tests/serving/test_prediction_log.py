"""Every answer of the model server logged, through the predictions stream, to the lake's
`predictions` table (read back with DuckDB); a sink that is down costs records, never answers."""

from __future__ import annotations

import json
import os
import re
import signal
import time
from typing import Any

import httpx
import psutil
import pytest

from beer_platform.local import model_server as server
from beer_platform.local.stack import free_port
from beer_platform.settings import Settings
from beer_platform_tests.prediction_lake import land_clean_and_query

pytestmark = pytest.mark.integration

PUNK_IPA = {"id": 192, "name": "Punk IPA 2007 - 2010", "abv": 6.0, "target_fg": 1010, "target_og": 1056, "ebc": 17,
            "srm": 8.5, "ph": 4.4}  # fmt: skip
BUZZ = {"id": 1, "name": "Buzz", "abv": 4.5, "target_fg": 1010, "target_og": 1044, "ebc": 20, "srm": 10, "ph": 4.4,
        "volume": {"value": 20, "unit": "litres"},
        "ingredients": {"hops": [{"name": "Fuggles", "amount": {"value": 25, "unit": "grams"}, "add": "start"},
                                 {"name": "Cascade", "amount": {"value": 37.5, "unit": "grams"}, "add": "end"}]}}  # fmt: skip


def _env(settings: Settings, endpoint: str | None = None) -> dict[str, str]:
    return {"BEER_PLATFORM_ENV": "local", "BEER_PLATFORM_AWS_ENDPOINT_URL": endpoint or settings.aws_endpoint_url,
            "BEER_PLATFORM_NAMES": json.dumps(settings.names.as_dict())}  # fmt: skip


def test_each_answer_lands_in_the_predictions_table_with_its_inputs_and_request_id(home, saved, own_settings):
    with server.running_service(0, bentoml_home=home, env=_env(own_settings)) as service:
        chosen = httpx.post(f"{service.url}/predict", json=[PUNK_IPA, BUZZ], headers={"X-Request-ID": "client-42"},
                            timeout=60)  # fmt: skip
        anonymous = httpx.post(f"{service.url}/predict", json=[{k: v for k, v in PUNK_IPA.items() if k != "id"}],
                               timeout=60)  # fmt: skip
        # over 256 KiB: answered, and its records made, by the large-body worker
        large = httpx.post(f"{service.url}/predict", json=[BUZZ] * 1000, headers={"X-Request-ID": "client-large"},
                           timeout=60)  # fmt: skip
    # the server stopped cleanly: what it had queued was sent first
    assert chosen.status_code == anonymous.status_code == large.status_code == 200
    assert chosen.headers["x-request-id"] == "client-42"
    new_id = anonymous.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", new_id)
    answer = land_clean_and_query(own_settings, "SELECT request_id, position, model, answered_by, ibu, tinseth_ibu, "
                                  "beer_id, name, abv, target_og, volume_litres, hops IS NOT NULL, latency_ms > 0, "
                                  "host, count(*) OVER (PARTITION BY request_id) FROM predictions "
                                  "QUALIFY request_id <> 'client-large' OR position IN (0, 999) "
                                  "ORDER BY request_id, position")  # fmt: skip
    model = chosen.json()["model"]
    punk, buzz = chosen.json()["predictions"]
    (lone,) = anonymous.json()["predictions"]
    first, last = large.json()["predictions"][0], large.json()["predictions"][999]
    assert answer.rows == sorted([
        ("client-42", 0, model, "card", punk["ibu"], None, 192, PUNK_IPA["name"], 6.0, 1056.0, None, False, True,
         "server", 2),
        ("client-42", 1, model, "recipe", buzz["ibu"], buzz["tinseth_ibu"], 1, "Buzz", 4.5, 1044.0, 20.0, True, True,
         "server", 2),
        (new_id, 0, model, "card", lone["ibu"], None, None, PUNK_IPA["name"], 6.0, 1056.0, None, False, True, "server",
         1),
        ("client-large", 0, model, "recipe", first["ibu"], first["tinseth_ibu"], 1, "Buzz", 4.5, 1044.0, 20.0, True,
         True, "server", 1000),
        ("client-large", 999, model, "recipe", last["ibu"], last["tinseth_ibu"], 1, "Buzz", 4.5, 1044.0, 20.0, True,
         True, "server", 1000),
    ])  # fmt: skip


def _dropped(metrics: str) -> float:
    found = re.search(r"^beer_platform_prediction_records_dropped_total(?:\{[^}]*\})? (\S+)$", metrics, re.M)
    return float(found.group(1)) if found else 0.0


def test_a_sink_that_is_down_costs_records_never_answers(home, saved, own_settings):
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with server.running_service(0, bentoml_home=home, env=_env(own_settings, down)) as service:
        answers: list[Any] = [httpx.post(f"{service.url}/predict", json=[PUNK_IPA] * 3, timeout=60) for _ in range(5)]
        assert [a.status_code for a in answers] == [200] * 5
        deadline, dropped = time.monotonic() + 60, 0.0
        while time.monotonic() < deadline and dropped < 15:
            dropped = _dropped(httpx.get(f"{service.url}/metrics", timeout=30).text)
            time.sleep(0.5)
    assert dropped == 15  # every record counted, none of the answers lost


def test_a_server_killed_outright_leaves_no_process_behind(home, saved, own_settings):
    with server.running_service(0, bentoml_home=home, env=_env(own_settings)) as service:
        large = [BUZZ] * 1000  # over 256 KiB: answered by the large-body worker, which starts then
        assert len(json.dumps(large)) > 256 * 1024
        assert httpx.post(f"{service.url}/predict", json=large, timeout=60).status_code == 200
        children = psutil.Process(service.process.pid).children(recursive=True)
        assert len(children) >= 3  # the shipper, the large-body worker, multiprocessing's resource tracker
        os.kill(service.process.pid, signal.SIGKILL)  # the server alone, not its process group
        gone, alive = psutil.wait_procs(children, timeout=15)
        assert not alive, [child.cmdline() for child in alive]
