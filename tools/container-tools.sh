#!/usr/bin/env bash
# The Lambda image's system tools: podman (+ runc), the local registry, mmdebstrap; and Debian's
# PostgreSQL server, which `make platform-up` runs as the platform's database.
# Installs what is missing with apt-get when run as root on Debian/Ubuntu; elsewhere prints what
# to install and succeeds (the platform runs without them, and says that no image was built).
# `--require`: fail, saying why, unless a container engine answers afterwards (CI).
set -euo pipefail

need=()
command -v podman >/dev/null || { command -v docker >/dev/null && docker info >/dev/null 2>&1; } || need+=(podman)
command -v runc >/dev/null || need+=(runc)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || command -v initdb >/dev/null || need+=(postgresql)

if ((${#need[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing ${need[*]} (apt-get)..."
    # keep the packages from starting their own services (the registry on 0.0.0.0:5000, a Postgres cluster)
    policy=/usr/sbin/policy-rc.d
    if [[ ! -e $policy ]]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && trap 'rm -f "$policy"' EXIT; fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "not installed: ${need[*]}. The Lambda image is built, verified and run locally with them:" >&2
    echo "  Debian/Ubuntu: sudo apt-get install ${need[*]}   (others: your package manager; docker works in place of podman)" >&2
    echo "Until then the platform runs, and ibu_model_lambda's metadata says no image was built." >&2
  fi
fi

if [[ ${1:-} == --require ]]; then
  if command -v podman >/dev/null && podman --runtime runc info >/dev/null 2>&1; then exit 0; fi
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then exit 0; fi
  echo "no container engine answers (podman --runtime runc info / docker info failed): the container tests cannot run" >&2
  exit 1
fi
