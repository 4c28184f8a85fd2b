#!/usr/bin/env bash
# Offline checks for infra/ (nothing is downloaded):
#
#   0. `terraform fmt -check` on every .tf file and `terraform validate` on the root module and each
#      module under modules/, with the machine's Terraform and its provider mirror
#      ($BEER_PLATFORM_TF_PLUGIN_DIR, default /opt/tf-plugins), in a scratch copy of infra/ (so that
#      init writes nothing into the checkout). Without either, it fails naming what is missing;
#   1. parse every .tf (and .tfvars.example) file under infra/ with python-hcl2, using the project's python
#      ($PYTHON, default .venv/bin/python relative to the repo root);
#   2. run checkov (terraform framework, offline) from its own virtualenv at
#      .tools/checkov-venv, created on demand from the pinned, hashed infra/requirements-lint.txt.
#      checkov depends on bc-python-hcl2, which installs the same `hcl2` import name as
#      python-hcl2: the two must never share an environment.
#
# Exits non-zero when a file is not formatted, a module does not validate, a file does not parse
# or checkov reports a failed check. Works from any cwd. Environment:
#   PYTHON             project python with python-hcl2 (default: <repo>/.venv/bin/python)
#   CHECKOV_VENV       checkov's venv (default: <repo>/.tools/checkov-venv)
#   CHECKOV_BASE_PYTHON  interpreter used to create that venv (default: python3)
#   BEER_PLATFORM_TF_PLUGIN_DIR  the provider mirror (a folder holding registry.terraform.io/)
set -euo pipefail

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$INFRA_DIR/.." && pwd)"
cd "$REPO_ROOT"

PYTHON="${PYTHON:-.venv/bin/python}"
CHECKOV_VENV="${CHECKOV_VENV:-$REPO_ROOT/.tools/checkov-venv}"
CHECKOV_BASE_PYTHON="${CHECKOV_BASE_PYTHON:-python3}"
REQUIREMENTS="$INFRA_DIR/requirements-lint.txt"
STAMP="$CHECKOV_VENV/.requirements-lint.sha256"
TF_PLUGIN_DIR="${BEER_PLATFORM_TF_PLUGIN_DIR:-/opt/tf-plugins}"

# --- 0. terraform fmt and validate ------------------------------------------------------------
if ! command -v terraform >/dev/null 2>&1; then
    echo "infra/lint.sh: terraform not found on PATH (Terraform >= 1.6 checks infra/: fmt and validate)" >&2
    exit 1
fi
if [[ ! -d "$TF_PLUGIN_DIR/registry.terraform.io" ]]; then
    echo "infra/lint.sh: no provider mirror at $TF_PLUGIN_DIR (set BEER_PLATFORM_TF_PLUGIN_DIR to a folder holding registry.terraform.io/hashicorp/aws)" >&2
    exit 1
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export TF_CLI_CONFIG_FILE="$scratch/cli.tfrc" TF_DATA_DIR="$scratch/.terraform" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
: >"$TF_CLI_CONFIG_FILE"  # no user's CLI settings
echo "== terraform fmt -check ($(terraform version | head -n1))"
terraform fmt -check -recursive -diff "$INFRA_DIR"
echo "== terraform validate (providers from $TF_PLUGIN_DIR)"
cp -R "$INFRA_DIR" "$scratch/infra"
rm -rf "$scratch/infra/.terraform" "$scratch"/infra/modules/*/.terraform
terraform -chdir="$scratch/infra" init -backend=false -input=false -no-color -plugin-dir="$TF_PLUGIN_DIR" >"$scratch/init.log" \
    || { cat "$scratch/init.log" >&2; exit 1; }
# Every module dir shares the root's provider install (TF_DATA_DIR) and lock; two at a time.
printf '%s\n' "$scratch/infra" "$scratch"/infra/modules/*/ | xargs -P 2 -I{} bash -c '
    dir="${1%/}"; [[ "$dir" == "$2" ]] || cp "$2/.terraform.lock.hcl" "$dir/"
    if out="$(terraform -chdir="$dir" validate -no-color 2>&1)"; then echo "${dir#"$3/"}: valid"
    else echo "${dir#"$3/"}: $out" >&2; exit 255; fi' _ {} "$scratch/infra" "$scratch"

# --- 1. HCL parse -----------------------------------------------------------------------------
echo "== hcl2 parse (${PYTHON})"
"$PYTHON" - "$INFRA_DIR" <<'PY'
import pathlib
import sys

import hcl2

try:  # python-hcl2 >= 8
    from hcl2.utils import SerializationOptions

    opts = {"serialization_options": SerializationOptions(strip_string_quotes=True, explicit_blocks=False)}
except ImportError:  # python-hcl2 7.x
    opts = {}

root = pathlib.Path(sys.argv[1])
skip_parts = {".terraform", ".tools", ".venv"}
def wanted(pattern):
    return sorted(p for p in root.rglob(pattern) if not skip_parts & set(p.relative_to(root).parts))


tf_files = wanted("*.tf")
files = tf_files + wanted("*.tfvars.example")
errors = []
for path in files:
    try:
        hcl2.loads(path.read_text(encoding="utf-8"), **opts)
    except Exception as exc:  # noqa: BLE001 - report every parse failure, whatever its type
        errors.append(f"{path.relative_to(root.parent)}: {type(exc).__name__}: {exc}")
print(f"parsed {len(files) - len(errors)}/{len(files)} files ({len(tf_files)} .tf, {len(files) - len(tf_files)} .tfvars.example)")
if not tf_files:
    print("no .tf files found", file=sys.stderr)
    sys.exit(1)
for err in errors:
    print(f"PARSE ERROR {err}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY

# --- 2. checkov from its own venv -------------------------------------------------------------
want_hash="$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)"

ensure_checkov() {
    if [[ -x "$CHECKOV_VENV/bin/checkov" && -f "$STAMP" && "$(cat "$STAMP")" == "$want_hash" ]]; then
        return 0
    fi
    echo "== installing checkov into ${CHECKOV_VENV} (requirements hash ${want_hash:0:12})"
    rm -rf "$CHECKOV_VENV"
    mkdir -p "$(dirname "$CHECKOV_VENV")"
    "$CHECKOV_BASE_PYTHON" -m venv "$CHECKOV_VENV"
    local log="$CHECKOV_VENV/pip-install.log"
    if ! "$CHECKOV_VENV/bin/python" -m pip install --disable-pip-version-check \
        --require-hashes --no-deps --only-binary=:all: -r "$REQUIREMENTS" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        echo "checkov install failed (full log: $log)" >&2
        return 1
    fi
    # The stamp is written last: an interrupted install is redone on the next run.
    echo "$want_hash" >"$STAMP.tmp" && mv "$STAMP.tmp" "$STAMP"
}

mkdir -p "$(dirname "$CHECKOV_VENV")"
if command -v flock >/dev/null 2>&1; then
    # Serialise concurrent first runs (two shells both creating the venv).
    exec 9>"$(dirname "$CHECKOV_VENV")/.checkov-venv.lock"
    flock 9
    ensure_checkov
    flock -u 9
else
    ensure_checkov
fi

# Fully offline: no policy download (--skip-download), no PyPI update check at import.
export CKV_SKIP_PACKAGE_UPDATE_CHECK=true
echo "== checkov $("$CHECKOV_VENV/bin/checkov" --version)"
# No --skip-check: a check that does not apply is skipped inline on its resource, with a reason.
"$CHECKOV_VENV/bin/checkov" -d "$INFRA_DIR" --framework terraform --skip-download \
    --quiet --compact
