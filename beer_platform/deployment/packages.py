"""An image's Python packages: a selection of uv.lock (the Lambda image's: the `lambda` group),
installed on the host for the image.

`uv export --frozen --only-group lambda` pins them from uv.lock (other selections: other images,
see local/platform); `uv pip install --target` for
CPython 3.11 on x86_64 manylinux_2_28 (glibc 2.28 <= Debian 12's 2.36), wheels only, no
dependency resolution of its own. Nothing comes from the host's venv.

Bytecode is compiled with unchecked hashes: the image's COPY rounds file times to the second,
which would make every timestamp-checked .pyc stale, and a read-only root cannot rewrite them,
so each cold start would compile site-packages again in memory.

Installed once per set of pins into `cache_dir/packages-<hash>/`, then packed into one
uncompressed `packages.tar` beside it, which the Dockerfile ADDs (extracted): an engine checks a
cached layer against one file much faster than against ~20,000 (10 s instead of 18 s here).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from beer_platform.settings import SOURCE_ROOT
from beer_platform.deployment.image import SITE_PACKAGES

PLATFORM = ("--python-platform", "x86_64-manylinux_2_28", "--python-version", "3.11")
LAMBDA_GROUP = ("--only-group", "lambda")


def export_requirements(project_root: Path = SOURCE_ROOT, selection: tuple[str, ...] = LAMBDA_GROUP) -> str:
    """The packages `selection` (`uv export` options) names, pinned from uv.lock; by default the
    `lambda` group (runtime client included)."""
    exported = subprocess.run(
        [sys.executable, "-m", "uv", "export", "--frozen", *selection, "--no-hashes", "--no-header", "--no-annotate"],
        cwd=project_root, capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    lines = [line.strip() for line in exported.splitlines() if line.strip()]
    return "\n".join(lines) + "\n"


def install(requirements: str, cache_dir: Path | str, keep_scripts: tuple[str, ...] = ()) -> Path:
    """`packages.tar`: `requirements` installed for the image, packed (made unless cached).

    Console scripts are dropped (their shebangs name the host's Python) but for `keep_scripts`,
    binaries found beside the packages (`uv`: `python -m uv` looks for `<site>/bin/uv`)."""
    parts = [requirements, *PLATFORM, SITE_PACKAGES, "tar", *keep_scripts]
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
    target = Path(cache_dir) / f"packages-{key}"
    if (target / "packages.tar").is_file():
        return target / "packages.tar"
    staging = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    site = staging / "site-packages"
    site.mkdir(parents=True)
    (staging / "requirements.txt").write_text(requirements)
    try:
        subprocess.run(
            [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--target", str(site), *PLATFORM,
             "--only-binary", ":all:", "--no-deps", "-r", str(staging / "requirements.txt")],
            check=True, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        _drop_scripts(site / "bin", keep_scripts)
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
             "-s", str(site), "-p", SITE_PACKAGES, str(site)],
            check=True, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        subprocess.run(["tar", "-C", str(site), "--sort=name", "--owner=0", "--group=0", "--numeric-owner",
                        "-cf", str(staging / "packages.tar"), "."],
                       check=True, capture_output=True, text=True)  # fmt: skip
    except subprocess.CalledProcessError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"installing the image's packages failed:\n{(err.stdout + err.stderr)[-3000:]}") from None
    shutil.rmtree(site)
    try:
        staging.rename(target)  # atomic: a crash never leaves a half-made cache entry
    except OSError:  # another process got there first
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / "packages.tar").is_file():
            raise
    return target / "packages.tar"


def _drop_scripts(bin_dir: Path, keep: tuple[str, ...]) -> None:
    if not bin_dir.is_dir():
        return
    for script in bin_dir.iterdir():
        if script.name not in keep:
            script.unlink()
    if not any(bin_dir.iterdir()):
        bin_dir.rmdir()
