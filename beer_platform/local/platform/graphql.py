"""The webserver's GraphQL API, called as a user's client calls it.

Submitting a run and reloading the code location go through Dagster's own client
(`dagster_graphql.DagsterGraphQLClient`); what it does not offer (the workspace's load errors, a
run's timings and tags, the daemons' health) is one query each, posted to the same /graphql.
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

import httpx

from beer_platform.local.platform.instance import LOCATION

REPOSITORY = "__repository__"  # the implicit repository of a Definitions object
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}

WORKSPACE_QUERY = """
{ workspaceOrError { __typename
    ... on Workspace { locationEntries { name loadStatus
        locationOrLoadError { __typename ... on RepositoryLocation { name } ... on PythonError { message } } } }
    ... on PythonError { message } } }
"""
RUN_QUERY = """
query ($runId: ID!) { runOrError(runId: $runId) { __typename
    ... on Run { runId status jobName creationTime startTime endTime tags { key value } }
    ... on RunNotFoundError { message } ... on PythonError { message } } }
"""
RUNS_QUERY = """
query ($filter: RunsFilter) { runsOrError(filter: $filter) { __typename
    ... on Runs { results { runId status jobName creationTime startTime endTime tags { key value } } } } }
"""
EVENTS_QUERY = """
query ($runId: ID!) { logsForRun(runId: $runId) { __typename
    ... on EventConnection { events { __typename
        ... on MessageEvent { message timestamp level } ... on StepEvent { stepKey } } }
    ... on PythonError { message } } }
"""
MATERIALIZATION_QUERY = """
query ($key: AssetKeyInput!) { assetOrError(assetKey: $key) { __typename
    ... on Asset { assetMaterializations(limit: 1) { runId partition timestamp
        metadataEntries { label ... on TextMetadataEntry { text } ... on BoolMetadataEntry { boolValue } } } } } }
"""
SELECTOR = '{repositoryLocationName: "%s", repositoryName: "%s", %%s: "%%s"}' % (LOCATION, REPOSITORY)
SCHEDULE_QUERY = "{ scheduleOrError(scheduleSelector: %s) { ... on Schedule { scheduleState { id status } } } }"
SENSOR_QUERY = ("{ sensorOrError(sensorSelector: %s) { ... on Sensor { sensorState { id status "
                "typeSpecificData { ... on SensorData { lastCursor } } } } } }")  # fmt: skip
DAEMONS_QUERY = "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"


class GraphQLError(RuntimeError):
    pass


class PlatformClient:
    def __init__(self, url: str, timeout: float = 30) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def query(self, document: str, variables: dict | None = None) -> dict:
        answer = httpx.post(f"{self.url}/graphql", json={"query": document, "variables": variables or {}},
                            timeout=self.timeout)  # fmt: skip
        answer.raise_for_status()
        body = answer.json()
        if body.get("errors"):
            raise GraphQLError("; ".join(e.get("message", str(e)) for e in body["errors"]))
        return body["data"]

    def _dagster_client(self):
        from dagster_graphql import DagsterGraphQLClient

        where = urlparse(self.url)
        return DagsterGraphQLClient(where.hostname, port_number=where.port, timeout=int(self.timeout))

    def submit(self, job: str, tags: dict[str, str] | None = None) -> str:
        """Submit a run of `job` (queued; the daemon launches it); returns its run id."""
        return self._dagster_client().submit_job_execution(job, repository_location_name=LOCATION,
                                                           repository_name=REPOSITORY, tags=tags or {})  # fmt: skip

    def reload(self) -> tuple[bool, str]:
        """Reload the code location (after its server restarted); (loaded, the error if not)."""
        info = self._dagster_client().reload_repository_location(LOCATION)
        return info.status.value == "SUCCESS", info.message or ""

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/server_info", timeout=5).is_success
        except httpx.HTTPError:
            return False

    def locations(self) -> dict[str, dict]:
        """Each code location: its load status and, when it failed to load, the error (as the UI shows it)."""
        workspace = self.query(WORKSPACE_QUERY)["workspaceOrError"]
        if workspace["__typename"] != "Workspace":
            raise GraphQLError(workspace.get("message", workspace["__typename"]))
        entries = {entry["name"]: (entry["loadStatus"], entry["locationOrLoadError"] or {})
                   for entry in workspace["locationEntries"]}  # fmt: skip
        return {name: {"load_status": status, "loaded": found.get("__typename") == "RepositoryLocation",
                       "error": found.get("message")} for name, (status, found) in entries.items()}  # fmt: skip

    def run(self, run_id: str) -> dict:
        found = self.query(RUN_QUERY, {"runId": run_id})["runOrError"]
        if found["__typename"] != "Run":
            raise GraphQLError(found.get("message", found["__typename"]))
        return _with_tags(found)

    def runs(self, **run_filter) -> list[dict]:
        """Runs matching a RunsFilter (e.g. `tags=[{"key": ..., "value": ...}]`), newest first."""
        return [_with_tags(run) for run in self.query(RUNS_QUERY, {"filter": run_filter})["runsOrError"]["results"]]

    def events(self, run_id: str) -> list[dict]:
        """The run's event log: `__typename`, `message`, `timestamp` (ms), `stepKey` for a step's events."""
        found = self.query(EVENTS_QUERY, {"runId": run_id})["logsForRun"]
        if found["__typename"] != "EventConnection":
            raise GraphQLError(found.get("message", found["__typename"]))
        return found["events"]

    def latest_materialization(self, asset: str) -> dict | None:
        """The asset's latest materialization: run id, partition, and its text and bool metadata."""
        found = self.query(MATERIALIZATION_QUERY, {"key": {"path": [asset]}})["assetOrError"]
        if found["__typename"] != "Asset" or not found["assetMaterializations"]:
            return None
        [latest] = found["assetMaterializations"]
        metadata = {e["label"]: e["text"] if "text" in e else e["boolValue"] for e in latest.pop("metadataEntries")
                    if "text" in e or "boolValue" in e}  # fmt: skip
        return latest | {"metadata": metadata}

    def schedule(self, name: str) -> dict:
        """The schedule's state: `id`, `status` (RUNNING, STOPPED)."""
        return self.query(SCHEDULE_QUERY % (SELECTOR % ("scheduleName", name)))["scheduleOrError"]["scheduleState"]

    def sensor(self, name: str) -> dict:
        """The sensor's state: `id`, `status`, `cursor`."""
        state = self.query(SENSOR_QUERY % (SELECTOR % ("sensorName", name)))["sensorOrError"]["sensorState"]
        return {"id": state["id"], "status": state["status"], "cursor": state["typeSpecificData"].get("lastCursor")}

    def stop_schedule(self, name: str) -> None:
        self.query('mutation { stopRunningSchedule(id: "%s") { __typename } }' % self.schedule(name)["id"])

    def stop_sensor(self, name: str) -> None:
        self.query('mutation { stopSensor(id: "%s") { __typename } }' % self.sensor(name)["id"])

    def daemons(self) -> dict[str, bool]:
        statuses = self.query(DAEMONS_QUERY)["instance"]["daemonHealth"]["allDaemonStatuses"]
        return {d["daemonType"]: d["healthy"] for d in statuses if d["required"]}

    def wait(self, run_id: str, statuses: set[str] = FINISHED, timeout: float = 600, poll: float = 1.0) -> dict:
        """The run once its status is one of `statuses`; TimeoutError (with its last status) otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.run(run_id)
            if current["status"] in statuses:
                return current
            if time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} still {current['status']} after {timeout:.0f}s")
            time.sleep(poll)


def _with_tags(run: dict) -> dict:
    return run | {"tags": {tag["key"]: tag["value"] for tag in run["tags"]}}
