"""The Lambda image's build context (the directory an engine builds the Dockerfile from).

Layout (everything but `packages.tar` is what `/var/task` holds in the image):

    Dockerfile            the image (see `image`)
    requirements.txt      pinned from uv.lock's `lambda` group (runtime interface client included)
    packages.tar          those pins installed for the image's platform (see `packages`), linked
                          from the cache: the image's site-packages
    context.json          bento, model, Python: what the release reads back
    lambda_handler.py     beer_platform/deployment/handler.py, + __pycache__/*.pyc
    bento/                the bento (bento.yaml, src/ with __pycache__/*.pyc, apis/, env/)
    bentoml_home/         the model, in a BentoML store's layout: models/ibu_model/<version>/ + latest

Bytecode is compiled here with `UNCHECKED_HASH`: valid whatever the file times in the image,
and never rewritten (the root is read-only anyway). Every file is made world-readable: Lambda
runs the code as an unprivileged user, and BentoML creates model dirs with mode 0700.
"""

from __future__ import annotations

import json
import os
import py_compile
import shutil
import sys
from pathlib import Path

from beer_platform.deployment.bento import BuiltBento, copy_model_into
from beer_platform.settings import SOURCE_ROOT
from beer_platform.deployment.image import DOCKERFILE, HANDLER, TASK_ROOT, pyc_path
from beer_platform.deployment.packages import export_requirements, install

HANDLER_SOURCE = Path(__file__).with_name("handler.py")


def build_context(bento: BuiltBento, out_dir: Path | str, cache_dir: Path | str,
                  project_root: Path = SOURCE_ROOT) -> Path:  # fmt: skip
    """Assemble the image build context for `bento` in `out_dir` (created; must not hold anything)."""
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: build contexts are assembled in a fresh directory")
    out.mkdir(parents=True, exist_ok=True)
    (out / "Dockerfile").write_text(DOCKERFILE)
    requirements = export_requirements(project_root)
    (out / "requirements.txt").write_text(requirements)
    link_or_copy(str(install(requirements, cache_dir)), str(out / "packages.tar"))
    shutil.copyfile(HANDLER_SOURCE, out / "lambda_handler.py")
    shutil.copytree(bento.path, out / "bento", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    copy_model_into(out / "bentoml_home", bento.model_tag, bento.model_path)
    manifest = {"bento": bento.tag, "model": bento.model_tag,
                "python": f"{sys.version_info.major}.{sys.version_info.minor}", "handler": HANDLER}  # fmt: skip
    (out / "context.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    compile_bytecode(out)
    _make_world_readable(out, skip=out / "packages.tar")
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


def link_or_copy(source: str, target: str) -> None:
    # a hard link: the packages are ~500 MB and the cache is usually on the same filesystem
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _make_world_readable(root: Path, skip: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if path != skip:  # the cache's file (a link): already 0644
            path.chmod(0o755 if path.is_dir() else 0o644)
