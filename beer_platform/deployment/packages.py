"""The image's Python packages: the locked `lambda` group, installed on the host for the image.

`uv export --frozen --only-group lambda` pins them from uv.lock; `uv pip install --target` for
CPython 3.11 on x86_64 manylinux_2_28 (glibc 2.28 <= Debian 12's 2.36), wheels only, no
dependency resolution of its own. Nothing comes from the host's venv.

Bytecode is compiled with unchecked hashes: the image's COPY rounds file times to the second,
which would make every timestamp-checked .pyc stale, and a read-only root cannot rewrite them,
so each cold start would compile site-packages again in memory.

Installed once per set of pins into `cache_dir/packages-<hash>` (the warm build then reuses
the engine's cached layer too).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from beer_platform.deployment.bento import PROJECT_ROOT
from beer_platform.deployment.image import SITE_PACKAGES

PLATFORM = ("--python-platform", "x86_64-manylinux_2_28", "--python-version", "3.11")


def export_requirements(project_root: Path = PROJECT_ROOT) -> str:
    """The `lambda` group (runtime client included) pinned from uv.lock."""
    exported = subprocess.run(
        [sys.executable, "-m", "uv", "export", "--frozen", "--only-group", "lambda",
         "--no-hashes", "--no-header", "--no-annotate"],
        cwd=project_root, capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip
    lines = [line.strip() for line in exported.splitlines() if line.strip()]
    return "\n".join(lines) + "\n"


def install(requirements: str, cache_dir: Path | str) -> Path:
    """The directory holding `requirements` installed for the image (made unless cached)."""
    key = hashlib.sha256("\0".join([requirements, *PLATFORM, SITE_PACKAGES]).encode()).hexdigest()[:16]
    target = Path(cache_dir) / f"packages-{key}"
    if target.is_dir():
        return target
    staging = target.with_name(f".{target.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging.parent / f"{staging.name}.txt").write_text(requirements)
    try:
        subprocess.run(
            [sys.executable, "-m", "uv", "pip", "install", "--quiet", "--target", str(staging), *PLATFORM,
             "--only-binary", ":all:", "--no-deps", "-r", str(staging.parent / f"{staging.name}.txt")],
            check=True, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        shutil.rmtree(staging / "bin", ignore_errors=True)  # console scripts with the host's paths
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", "-j", "0", "--invalidation-mode", "unchecked-hash",
             "-s", str(staging), "-p", SITE_PACKAGES, str(staging)],
            check=True, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
    except subprocess.CalledProcessError as err:
        shutil.rmtree(staging, ignore_errors=True)
        raise RuntimeError(f"installing the image's packages failed:\n{(err.stdout + err.stderr)[-3000:]}") from None
    finally:
        (staging.parent / f"{staging.name}.txt").unlink(missing_ok=True)
    try:
        staging.rename(target)  # atomic: a crash never leaves a half-installed cache entry
    except OSError:  # another process got there first
        shutil.rmtree(staging, ignore_errors=True)
    return target
