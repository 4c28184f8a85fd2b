"""`beer-platform`: the local stack, end-to-end runs and SQL over the lake."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from beer_platform.settings import (
    DEFAULT_AWS_PORT,
    DEFAULT_DAGSTER_PORT,
    DEFAULT_PLATFORM_PORT,
    DEFAULT_PUNKAPI_PORT,
    DEFAULT_SERVE_PORT,
    Settings,
    SettingsError,
    load_settings,
    platform_dir,
    stack_dir,
)


class CommandError(RuntimeError):
    """What went wrong and what to do about it, in one line for a person (no traceback)."""


def _connected_settings() -> Settings:
    """The settings for a command that talks to the platform's endpoints: on the local stack, it
    must be running (unless an endpoint is given explicitly)."""
    settings = load_settings()
    if settings.env == "local" and "BEER_PLATFORM_AWS_ENDPOINT_URL" not in os.environ:
        from beer_platform.local import stack

        if stack.read_state(stack_dir()) is None:
            raise CommandError("the local stack is not running: beer-platform stack up --detach")
        stack.wait_until(stack_dir(), "ready")  # a stack just started may still be creating resources
    return settings


def _stack(args: argparse.Namespace) -> int:
    from beer_platform.local import stack

    state_dir = Path(args.state_dir) if args.state_dir else stack_dir()
    if args.action == "up":
        if args.detach:
            state = stack.start_detached(state_dir, args.aws_port, args.punkapi_port)
            print(json.dumps(state, indent=2))
            return 0

        def ready(state: stack.StackState) -> None:
            print(f"AWS endpoint (moto): {state.aws_endpoint_url}", flush=True)
            print(f"PunkAPI replica:     {state.punkapi_base_url}", flush=True)
            print(f"state: {state.recording} ({state.replayed_requests} requests replayed); Ctrl-C stops", flush=True)
            print(infra_line(state.infra), flush=True)

        if stack.read_state(state_dir) is not None:
            print(f"a local stack is already running (see {state_dir / stack.STATE_FILE})", file=sys.stderr)
            return 1
        stack.run_foreground(state_dir, args.aws_port, args.punkapi_port, on_ready=ready,
                             on_infra=lambda infra: print(infra_line(infra), flush=True))  # fmt: skip
        return 0
    if args.action == "down":
        if args.destroy:
            done = stack.destroy_detached(state_dir, args.aws_port, args.punkapi_port)
            print(f"terraform destroy against {done['endpoint']}: {done['destroyed']} resources of infra/ destroyed "
                  f"in {done['seconds']:.1f}s; local stack stopped (the next `stack up` applies infra/ again)")
            return 0
        print("stopped" if stack.stop_detached(state_dir) else "no local stack was running")
        return 0
    status = stack.status(state_dir)
    if args.json:
        print(json.dumps(status, indent=2))
    else:
        for key, value in status.items():
            print(f"{key}: {value}")
    return 0


def infra_line(infra: dict) -> str:
    """What the stack's infrastructure is doing, in one line (see local.infrastructure)."""
    state, log = infra.get("state"), infra.get("log", "")
    if state == "applied" and infra.get("unchanged"):
        return f"infra/: unchanged since the last apply, state replayed ({infra.get('resources', 0)} resources)"
    if state == "applied":
        return (f"infra/: applied by {infra.get('by', 'terraform')} ({infra.get('resources', 0)} resources, "
                f"{infra.get('seconds', 0):.1f}s)")
    if state == "ready":
        return f"infra/: the platform's resources exist; terraform apply goes on in the background (log: {log})"
    if state == "failed":
        return f"infra/: terraform apply FAILED: {infra.get('error', '')} (log: {log})"
    return f"infra/: terraform apply under way (log: {log})"


def _platform(args: argparse.Namespace) -> int:
    """Dagster deployed as teams run it, on this machine (see beer_platform/local/platform)."""
    from beer_platform.deployment.engine import EngineMissing
    from beer_platform.local.platform import lifecycle
    from beer_platform.local.platform.layout import Layout
    from beer_platform.local.platform.podman_service import ServiceError
    from beer_platform.local.platform.postgres import PostgresError

    layout = Layout(Path(args.state_dir) if args.state_dir else platform_dir())
    # with --json, stdout holds the status only: progress goes to stderr
    echo = lambda line: print(line, file=sys.stderr if args.json else sys.stdout, flush=True)  # noqa: E731
    try:
        if args.action == "up":
            status = lifecycle.up(layout, stack_dir(), args.port, args.aws_port, args.punkapi_port, echo=echo)
        elif args.action == "down":
            print("stopped (the data is kept)" if lifecycle.down(layout, echo=echo) else "the platform was not running")
            return 0
        elif args.action == "restart":
            if not args.service:
                raise CommandError("restart needs --service (postgres, podman-service, code-server, webserver, daemon)")
            lifecycle.restart(layout, args.service, echo=echo)
            status = lifecycle.status(layout)
        else:
            status = lifecycle.status(layout)
    except (lifecycle.PlatformError, PostgresError, ServiceError, EngineMissing) as err:
        raise CommandError(str(err)) from None
    if args.json:
        print(json.dumps(status, indent=2, default=str))
    else:
        _print_platform(status)
    return 0 if status.get("running") or args.action == "status" else 1


def _print_platform(status: dict) -> None:
    if not any(part.get("running") for part in status.get("services", {}).values()):
        print(f"the platform is not running (state: {status['state_dir']}): beer-platform platform up")
        return
    location = status["code_location"]
    print(f"Dagster UI:     {status['webserver_url']}  ({'running' if status['running'] else 'NOT all running'})")
    print(f"code location:  {location['name']} at {location['grpc_server']}, "
          f"{'loaded' if location.get('loaded') else 'NOT loaded: ' + str(location.get('error'))}")
    print(f"run launcher:   {status['run_launcher']['class']} via {status['run_launcher']['engine_api']}, "
          f"{status['run_launcher']['memory_limit']} a run")
    print(f"image:          {status['image']}")
    print(f"database:       {status['database']['url']}")
    for name, part in status["services"].items():
        rss = f"{part['rss_bytes'] / 2**20:.0f} MiB" if part.get("rss_bytes") else "-"
        state = "running" if part.get("running") else "STOPPED"
        print(f"  {name:<15} {state:<8} pid {part.get('pid') or '-':<8} {rss}")
    print(f"state: {status['state_dir']}")


def _run(args: argparse.Namespace) -> int:
    """Everything end to end: stack up, materialize the graph, summary, stack down."""
    from beer_platform.local import stack

    settings = load_settings()
    state_dir, launched = stack_dir(), None
    if settings.env == "local" and stack.read_state(state_dir) is None:
        print("starting the local stack (moto, PunkAPI replica, terraform apply of infra/)...", flush=True)
        stack.terraform_binary()
        launched = stack.launch_detached(state_dir, stack.stack_command(state_dir, args.aws_port, args.punkapi_port))
    # Dagster takes seconds to import: while the stack starts.
    from beer_platform.definitions import build_definitions
    from beer_platform.runner import dagster_instance, run_platform

    outcome = None
    try:
        if settings.env == "local":
            print(infra_line(stack.wait_until(state_dir, "ready", launched)["infra"]), flush=True)
            settings = load_settings()  # now with the running stack's endpoints
        print(f"environment: {settings.env}; AWS endpoint: {settings.aws_endpoint_url or 'AWS'}; "
              f"PunkAPI: {settings.punkapi_base_url}", flush=True)  # fmt: skip
        defs = build_definitions(settings)
        outcome = run_platform(defs, dagster_instance(), echo=lambda line: print(line, flush=True))
        _print_summary(outcome, defs, settings)
    finally:
        infra_ok = outcome is None or settings.env != "local" or _infra_ended_well(state_dir)
        if launched is not None and not args.keep_stack:
            stack.stop_detached(state_dir)
            print("local stack stopped (its state is kept in .stack/)")
    return 0 if outcome is not None and outcome.success and infra_ok else 1


def _infra_ended_well(state_dir: Path) -> bool:
    """After a run: wait for a running apply to end and say how it ended."""
    from beer_platform.local import stack

    try:
        infra = stack.wait_until(state_dir, "applied", timeout=stack.APPLY_GRACE_S)["infra"]
    except stack.InfrastructureFailed as failed:
        print(f"infra/: terraform apply FAILED: {failed}")
        return False
    except (TimeoutError, RuntimeError) as err:
        print(f"infra/: {err}")
        return False
    if not infra.get("unchanged"):
        print(infra_line(infra))
    return True


def _clean(args: argparse.Namespace) -> int:
    """Re-clean days from the raw zones (a backfill), then republish what is below."""
    settings = _connected_settings()
    from beer_platform.assets.lake import ZONES
    from beer_platform.aws.clients import AwsClients
    from beer_platform.definitions import build_definitions
    from beer_platform.runner import backfill, dagster_instance
    from beer_platform.stages.cleaned import raw_parts_of

    instance, days = dagster_instance(), sorted(set(args.days))
    s3 = AwsClients.from_settings(settings).client("s3")

    def landed(zone, day: str) -> bool:
        return instance.has_dynamic_partition(zone.days.name, day) or bool(
            raw_parts_of(s3, settings.names.raw_bucket, day, zone.source.zone))  # fmt: skip

    cleanings = [(zone, day) for day in days for zone in ZONES.values() if landed(zone, day)]
    if unlanded := [day for day in days if day not in {day for _, day in cleanings}]:
        known = sorted({d for zone in ZONES.values() for d in instance.get_dynamic_partitions(zone.days.name)})
        raise CommandError(f"nothing was landed on {', '.join(unlanded)} (YYYY-MM-DD; landed days: "
                           f"{', '.join(known) or 'none yet'})")  # fmt: skip
    for zone, day in cleanings:
        if not instance.has_dynamic_partition(zone.days.name, day):
            instance.add_dynamic_partitions(zone.days.name, [day])  # landed before its partition was known
    defs = build_definitions(settings)
    outcome = backfill(defs, instance, [(zone.cleaning_job, day) for zone, day in cleanings],
                       echo=lambda line: print(line, flush=True))  # fmt: skip
    _print_summary(outcome, defs, settings)
    return 0 if outcome.success else 1


def _print_summary(outcome, defs, settings) -> None:
    """One line per materialized asset, in graph order, from the materialization's own metadata:
    its row count and its `summary` (else where it lives)."""
    from beer_platform.lake.tables import BEERS

    graph = defs.resolve_asset_graph()
    print("\nsummary")
    for key in graph.toposorted_asset_keys:
        for done in (o for o in outcome.assets.values() if o.asset == key.to_user_string() and o.metadata):
            meta = done.metadata
            rows = meta.get("dagster/row_count", "-")
            where = meta.get("summary") or meta.get("dagster/uri") or meta.get("dagster/table_name") or ""
            print(f"  {graph.get(key).group_name:<10} {done.key:<30} {rows!s:>6} rows  {done.seconds:6.1f}s  {where}")
    if outcome.success:
        result = defs.resources["query"].run(
            f"SELECT ingestion_date, count(*) FROM {BEERS.name} GROUP BY 1 ORDER BY 1 DESC LIMIT 3"
        )
        print(f"  query ({result.engine}): " + ", ".join(f"{d}: {n} beers" for d, n in result.rows))
    runs = outcome.run_id.split(", ")
    print(f"  {'runs' if len(runs) > 1 else 'run'} {', '.join(r[:8] for r in runs)} "
          f"{'succeeded' if outcome.success else 'FAILED'} in {outcome.seconds:.1f}s")
    if outcome.error:
        print(f"  error: {outcome.error}")


def _dev(args: argparse.Namespace) -> int:
    """The local stack plus `dagster dev` (UI on 127.0.0.1:3000); Ctrl-C stops both."""
    import signal
    import subprocess

    from beer_platform.local import stack
    from beer_platform.runner import dagster_instance

    state_dir = stack_dir()
    started_stack = stack.read_state(state_dir) is None
    if started_stack:
        stack.start_detached(state_dir, args.aws_port, args.punkapi_port)
    dagster_instance()  # creates DAGSTER_HOME, so run history persists across sessions
    command = [str(Path(sys.executable).parent / "dagster"), "dev", "-w", "workspace.yaml",
               "-h", "127.0.0.1", "-p", str(args.port)]  # fmt: skip
    print(f"Dagster UI: http://127.0.0.1:{args.port}  (Ctrl-C stops it and the local stack)", flush=True)

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # A shell starting us in the background leaves SIGINT ignored, and children inherit that:
    # restore it here and in dagster dev, which only shuts down promptly on SIGINT.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)
    child = subprocess.Popen(command, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        return child.wait()
    except KeyboardInterrupt:
        # dagster dev shuts down cleanly on SIGINT (it ignores SIGTERM for a long while).
        child.send_signal(signal.SIGINT)
        return child.wait()
    finally:
        if started_stack:
            stack.stop_detached(state_dir)


def _serve(args: argparse.Namespace) -> int:
    """The latest `ibu_model` over HTTP with BentoML, in the foreground."""
    from beer_platform.settings import ensure_bentoml_home

    home = ensure_bentoml_home()
    from beer_platform.local import model_server as server
    from beer_platform.serving import model_store

    current = model_store.latest_model_info()
    if current is None:
        print(f"no ibu_model in the model store ({home}): run `make run` first", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{args.port}"
    print(f"serving {current['tag']} at {url}  (Swagger UI: {url}/, POST {url}/predict; Ctrl-C stops)", flush=True)
    server.serve(port=args.port)
    return 0


def _lambda(args: argparse.Namespace) -> int:
    """Invoke the deployed IBU model function, serve it as a Function URL, or roll `live` back."""
    from beer_platform.aws.clients import AwsClients
    from beer_platform.deployment import engine, lambda_api
    from beer_platform.deployment.sandbox import InvocationError

    settings = _connected_settings()
    clients = AwsClients.from_settings(settings)
    names = settings.names
    lambda_client = clients.client("lambda")
    try:
        if args.action == "rollback":
            before, after = lambda_api.rollback(lambda_client, names)
            print(f"{names.lambda_function}:{names.lambda_alias} moved from version {before} to {after}")
            return 0
        if args.action == "invoke":
            try:
                beers = json.loads(args.json)
            except json.JSONDecodeError as err:
                print(f"--json is not valid JSON: {err}", file=sys.stderr)
                return 2
        if settings.env == "aws" and args.action == "serve":
            print("lambda serve runs the local stack's function; in AWS, call its Function URL", file=sys.stderr)
            return 2
        if settings.env == "aws":
            response = lambda_api.invoke_remote(lambda_client, names, beers)
        else:
            # moto records functions and runs none: the `live` image runs here, as Lambda runs it
            from beer_platform.deployment.function_url import function_url_event
            from beer_platform.local.live_function import LiveFunction

            _, description = lambda_api.live_version(lambda_client, names)
            if not lambda_api.parse_description(description).get("model"):
                print(f"{names.lambda_function}:{names.lambda_alias} is still the version Terraform created, "
                      "before any model: materialize ibu_model_lambda first", file=sys.stderr)  # fmt: skip
                return 1
            with LiveFunction(engine.detect(), clients, names) as live:
                if args.action == "serve":
                    return _serve_function_url(live, args.port)
                response = live.invoke(function_url_event("POST", "/predict", beers, region=names.region))
    except (lambda_api.NoPreviousVersion, lambda_api.InvocationFailed, InvocationError, engine.EngineMissing) as err:
        print(str(err), file=sys.stderr)
        return 1
    except lambda_client.exceptions.ResourceNotFoundException:
        print(f"{names.lambda_function} is not deployed: materialize ibu_model_lambda first", file=sys.stderr)
        return 1
    print(response.get("body", ""))
    return 0 if 200 <= int(response.get("statusCode", 500)) < 300 else 1


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _serve_function_url(live, port: int) -> int:
    import signal

    from beer_platform.local.function_url_server import FunctionURLServer

    server = FunctionURLServer(live, port).start()
    version, image = live.current()
    print(f"{live.names.lambda_function}:{live.names.lambda_alias} (version {version}, {image}) at {server.url}\n"
          f"  curl -s {server.url}/predict -H 'content-type: application/json' "
          f"-d '[{{\"name\": \"Buzz\", \"abv\": 4.5, \"target_fg\": 1010, \"target_og\": 1044, "
          f"\"ebc\": 20, \"srm\": 10, \"ph\": 4.4}}]'   (Ctrl-C stops)", flush=True)  # fmt: skip
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    return 0


def _query(args: argparse.Namespace) -> int:
    settings = _connected_settings()  # before the slow imports: a mistake is told at once
    from beer_platform.aws.query import QueryError
    from beer_platform.resources import build_resources

    resources = build_resources(settings)
    try:
        result = resources["query"].run(args.sql)
    except QueryError as err:
        print(f"query failed: {err}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([dict(zip(result.columns, row)) for row in result.rows], default=str, indent=2))
        return 0
    widths = [max(len(str(c)), *(len(str(r[i])) for r in result.rows)) if result.rows else len(str(c))
              for i, c in enumerate(result.columns)]  # fmt: skip
    print("  ".join(str(c).ljust(w) for c, w in zip(result.columns, widths)))
    print("  ".join("-" * w for w in widths))
    for row in result.rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)))
    print(f"({len(result.rows)} rows, {result.engine})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="beer-platform", description=__doc__)
    parser.add_argument("--debug", action="store_true", help="show the traceback when a command fails")
    sub = parser.add_subparsers(dest="command", required=True)
    _add_platform_commands(sub)
    _add_model_commands(sub)
    return parser


def _ports(p: argparse.ArgumentParser) -> None:
    p.add_argument("--aws-port", type=int, default=int(os.environ.get("BEER_PLATFORM_AWS_PORT", DEFAULT_AWS_PORT)))
    p.add_argument("--punkapi-port", type=int,
                   default=int(os.environ.get("BEER_PLATFORM_PUNKAPI_PORT", DEFAULT_PUNKAPI_PORT)))  # fmt: skip


def _add_platform_commands(sub: Any) -> None:
    """stack, run, clean, dev, platform."""
    stack_p = sub.add_parser("stack", help="the local stack: moto's AWS endpoint and the PunkAPI replica")
    stack_p.add_argument("action", choices=["up", "down", "status"])
    stack_p.add_argument("--detach", action="store_true", help="run in the background (up)")
    stack_p.add_argument("--destroy", action="store_true",
                         help="down: first `terraform destroy` what the apply of infra/ created (plain down keeps it)")
    stack_p.add_argument("--json", action="store_true", help="print JSON (status)")
    stack_p.add_argument("--state-dir", help="where the stack keeps its state (default .stack/)")
    _ports(stack_p)
    stack_p.set_defaults(func=_stack)

    run_p = sub.add_parser("run", help="materialize every asset end to end and print a summary")
    run_p.add_argument("--keep-stack", action="store_true", help="leave the local stack running afterwards")
    _ports(run_p)
    run_p.set_defaults(func=_run)

    clean_p = sub.add_parser("clean", help="re-clean days from the raw zones (a backfill), then republish")
    clean_p.add_argument("days", nargs="+", metavar="YYYY-MM-DD")
    clean_p.set_defaults(func=_clean)

    dev_p = sub.add_parser("dev", help="the local stack plus the Dagster UI (dagster dev)")
    dev_p.add_argument("--port", type=int, default=DEFAULT_DAGSTER_PORT)
    _ports(dev_p)
    dev_p.set_defaults(func=_dev)

    platform_p = sub.add_parser("platform", help="Dagster as teams deploy it: Postgres, a code server, the "
                                                 "webserver and the daemon, every run in its own container")
    platform_p.add_argument("action", choices=["up", "down", "status", "restart"])
    platform_p.add_argument("--json", action="store_true", help="print the status as JSON")
    platform_p.add_argument("--port", type=int, default=int(os.environ.get("BEER_PLATFORM_PLATFORM_PORT", 0)) or None,
                            help=f"the webserver's port on 127.0.0.1 (default {DEFAULT_PLATFORM_PORT}, then kept)")
    platform_p.add_argument("--service", help="restart: postgres, podman-service, code-server, webserver or daemon")
    platform_p.add_argument("--state-dir", help="where the platform keeps its state (default .platform/)")
    _ports(platform_p)
    platform_p.set_defaults(func=_platform)


def _add_model_commands(sub: Any) -> None:
    """serve, lambda, query."""
    serve_p = sub.add_parser("serve", help="serve the latest ibu_model over HTTP (BentoML)")
    serve_p.add_argument("--port", type=int, default=int(os.environ.get("BEER_PLATFORM_SERVE_PORT", DEFAULT_SERVE_PORT)))
    serve_p.set_defaults(func=_serve)

    lambda_p = sub.add_parser("lambda", help="the deployed IBU model function: invoke it, serve it, roll it back")
    lambda_p.add_argument("action", choices=["invoke", "serve", "rollback"])
    lambda_p.add_argument("--json", default="[]", help="invoke: a JSON list of beers, as POST /predict takes")
    lambda_p.add_argument("--port", type=int, default=int(os.environ.get("BEER_PLATFORM_LAMBDA_PORT", 9000)),
                          help="serve: the Function URL look-alike's port on 127.0.0.1")  # fmt: skip
    lambda_p.set_defaults(func=_lambda)

    query_p = sub.add_parser("query", help="run SQL over the Glue tables beers, beer_hops, recipes "
                                           "(DuckDB locally, Athena in aws)")
    query_p.add_argument("sql")
    query_p.add_argument("--json", action="store_true")
    query_p.set_defaults(func=_query)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130
    except Exception as err:
        if args.debug:
            raise
        print(f"beer-platform: {explain(err)}", file=sys.stderr)
        return 1


def explain(err: Exception) -> str:
    """One line saying what is wrong and, where it can, what to do (the traceback is for --debug)."""
    from botocore.exceptions import EndpointConnectionError, NoCredentialsError

    from beer_platform.local.http_server import PortTaken
    from beer_platform.local.stack import InfrastructureFailed
    from beer_platform.local.terraform import TerraformFailed, TerraformMissing

    if isinstance(err, (CommandError, SettingsError, PortTaken, TerraformMissing, TerraformFailed, InfrastructureFailed)):
        return str(err)
    if isinstance(err, EndpointConnectionError):
        return f"nothing answers at {err.kwargs.get('endpoint_url')}: is the endpoint up? (local: beer-platform stack up --detach)"
    if isinstance(err, NoCredentialsError):
        return "no AWS credentials: configure boto3 (environment, profile or role)"
    message = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"{type(err).__name__}: {message} (run with --debug for the traceback)"


if __name__ == "__main__":
    sys.exit(main())
