"""The local platform: Dagster deployed as teams run it, on this machine (`make platform-up`).

    host process  Postgres (Debian's server, run by the project)   run, event and schedule storage
    host process  podman system service (the Docker API)           on a socket in the state dir
    container     code server (the user-code image)                the definitions, over gRPC
    container     webserver, daemon (the Dagster image)            no user code: workspace.yaml's grpc_server
    container     one per run (the user-code image)                DockerRunLauncher, 1 GiB

Everything binds 127.0.0.1 (containers share the host's network). The modules: `layout` (paths
and names), `postgres`, `podman_service`, `images`, `instance` (dagster.yaml, workspace.yaml),
`services` (the three long-running containers), `graphql` (the webserver's API, as a user's
client calls it), `lifecycle` (up, down, status, restart).
"""
