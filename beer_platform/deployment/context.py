"""The Lambda container image's build context: assemble it (packing and storing it is
`artifact`'s job, sizing it `sizing`'s).

Layout (also what `/var/task` holds in the image):

    Dockerfile            the image (see DOCKERFILE for why this base)
    requirements.txt      pinned from uv.lock's `lambda` group (runtime interface client included)
    context.json          bento, model, base image: what `verify` and the release notes read
    lambda_handler.py     beer_platform/deployment/handler.py, + __pycache__/*.pyc
    bento/                the bento (bento.yaml, src/ with __pycache__/*.pyc, apis/, env/)
    bentoml_home/         BENTOML_HOME: models/ibu_model/<version>/ + latest; bentos/ envs/ tmp/

Bytecode is compiled here with `UNCHECKED_HASH`: valid whatever the file times in the image,
and never rewritten (the code dir is read-only anyway). Every file is made world-readable:
Lambda runs the code as an unprivileged user, and BentoML creates model dirs with mode 0700.
"""

from __future__ import annotations

import importlib.util
import json
import py_compile
import shutil
import subprocess
import sys
from pathlib import Path

from beer_platform.deployment.bento import BuiltBento, copy_model_into
from beer_platform.settings import SOURCE_ROOT
from beer_platform.deployment.image import BASE_IMAGE, DOCKERFILE, TASK_ROOT, pyc_path

HANDLER_SOURCE = Path(__file__).with_name("handler.py")


def export_requirements(project_root: Path = SOURCE_ROOT) -> str:
    """The `lambda` group (runtime client included) pinned from uv.lock (`uv export --frozen`)."""
    exported = subprocess.run(
        [sys.executable, "-m", "uv", "export", "--frozen", "--only-group", "lambda",
         "--no-hashes", "--no-header", "--no-annotate"],
        cwd=project_root, capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    lines = [line.strip() for line in exported.splitlines() if line.strip()]
    return "\n".join(lines) + "\n"


def build_context(bento: BuiltBento, out_dir: Path | str, project_root: Path = SOURCE_ROOT) -> Path:
    """Assemble the image build context for `bento` in `out_dir` (created; must not hold anything)."""
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: build contexts are assembled in a fresh directory")
    out.mkdir(parents=True, exist_ok=True)
    (out / "Dockerfile").write_text(DOCKERFILE)
    (out / "requirements.txt").write_text(export_requirements(project_root))
    shutil.copyfile(HANDLER_SOURCE, out / "lambda_handler.py")
    shutil.copytree(bento.path, out / "bento", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    home = out / "bentoml_home"
    for sub in ("bentos", "models", "envs", "tmp"):
        (home / sub).mkdir(parents=True)
    copy_model_into(home, bento.model_tag, bento.model_path)
    manifest = {"bento": bento.tag, "model": bento.model_tag, "base_image": BASE_IMAGE,
                "python": f"{sys.version_info.major}.{sys.version_info.minor}",
                "handler": "lambda_handler.handler"}  # fmt: skip
    (out / "context.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    compile_bytecode(out)
    _make_world_readable(out)
    return out


def compile_bytecode(context_dir: Path) -> list[Path]:
    """Compile the handler and the bento's src into `__pycache__/*.cpython-311.pyc` (unchecked hash).

    The recorded file name is the path in the image, so the bytes do not depend on `context_dir`.
    """
    sources = [context_dir / "lambda_handler.py", *sorted((context_dir / "bento" / "src").rglob("*.py"))]
    compiled = []
    for source in sources:
        target = pyc_path(source)
        py_compile.compile(
            str(source), cfile=str(target), dfile=f"{TASK_ROOT}/{source.relative_to(context_dir)}", doraise=True,
            optimize=0, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )  # fmt: skip
        compiled.append(target)
    return compiled


def pyc_problems(context_dir: Path) -> list[str]:
    """Sources without a valid unchecked-hash .pyc for this interpreter (empty when all is well)."""
    problems = []
    for source in [context_dir / "lambda_handler.py", *sorted((context_dir / "bento" / "src").rglob("*.py"))]:
        target = pyc_path(source)
        if not target.exists():
            problems.append(f"{source.relative_to(context_dir)}: no {target.name}")
            continue
        header = target.read_bytes()[:16]
        flags = int.from_bytes(header[4:8], "little")
        if header[:4] != importlib.util.MAGIC_NUMBER:
            problems.append(f"{target.relative_to(context_dir)}: magic number of another Python")
        elif flags != 0b01:  # hash-based (bit 0), not checked against the source (bit 1)
            problems.append(f"{target.relative_to(context_dir)}: flags {flags:#b}, expected unchecked hash")
        elif header[8:16] != importlib.util.source_hash(source.read_bytes()):
            problems.append(f"{target.relative_to(context_dir)}: compiled from another version of the source")
    return problems


def _make_world_readable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
