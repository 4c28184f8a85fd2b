"""How big the image gets, and whether every pinned package can be installed on its base."""

from __future__ import annotations

import importlib.metadata
import tomllib
from pathlib import Path
from typing import Any

from beer_platform.settings import SOURCE_ROOT
from beer_platform.deployment.image import (
    BASE_GLIBC,
    BASE_IMAGE,
    BASE_IMAGE_ASSUMED_BYTES,
    IMAGE_LIMIT_BYTES,
    ZIP_LIMIT_BYTES,
    pyc_path,
)


def pinned_distributions(requirements: str) -> list[tuple[str, str]]:
    """(name, version) of each `name==version` line whose marker holds on Linux x86_64 CPython."""
    from packaging.markers import Marker

    env = {"implementation_name": "cpython", "platform_python_implementation": "CPython",
           "sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64",
           "python_version": "3.11", "python_full_version": "3.11.0", "os_name": "posix"}  # fmt: skip
    pins = []
    for line in requirements.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate(env):
            continue
        name, _, version = spec.strip().partition("==")
        pins.append((name.strip(), version.strip()))
    return pins


def _installed_bytes(name: str) -> tuple[int, int]:
    """(bytes of the files a distribution's RECORD lists, bytes of bytecode to add for its modules).

    uv installs without compiling (RECORD has no .pyc), pip in the image compiles every module:
    count the .pyc found beside each unrecorded source, or the source's own size when absent.
    """
    dist = importlib.metadata.distribution(name)
    files = [Path(str(dist.locate_file(file))) for file in dist.files or []]
    files = [path for path in files if path.is_file()]
    recorded = set(files)
    bytecode = 0
    for source in (path for path in files if path.suffix == ".py"):
        pyc = pyc_path(source)
        if pyc not in recorded:
            bytecode += (pyc if pyc.exists() else source).stat().st_size
    return sum(path.stat().st_size for path in files), bytecode


def _tree_bytes(root: Path) -> int:
    return sum(path.stat().st_size for path in root.rglob("*") if path.is_file())


def image_size_estimate(context_dir: Path | str) -> dict[str, Any]:
    """The image's unpacked size: base (assumed) + pinned packages (measured here) + the context."""
    root = Path(context_dir)
    pins = pinned_distributions((root / "requirements.txt").read_text())
    packages: dict[str, int] = {}
    bytecode = 0
    missing = []
    for name, version in pins:
        try:
            installed = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(f"{name}=={version}")
            continue
        if installed != version:
            missing.append(f"{name}=={version} (this venv has {installed})")
            continue
        listed, compiled = _installed_bytes(name)
        packages[name] = listed
        bytecode += compiled
    context = _tree_bytes(root)
    package_total = sum(packages.values()) + bytecode
    total = BASE_IMAGE_ASSUMED_BYTES + package_total + context
    largest = sorted(packages.items(), key=lambda item: -item[1])[:8]
    return {
        "base_image": BASE_IMAGE,
        "base_image_bytes_assumed": BASE_IMAGE_ASSUMED_BYTES,
        "packages_bytes": package_total,
        "packages_bytecode_bytes": bytecode,
        "packages_measured": len(packages),
        "packages_not_measured": missing,  # not installed here (e.g. the runtime client: < 1 MB)
        "largest_packages": dict(largest),
        "context_bytes": context,
        "total_bytes": total,
        "image_limit_bytes": IMAGE_LIMIT_BYTES,
        "fraction_of_image_limit": total / IMAGE_LIMIT_BYTES,
        "fits_image_limit": total <= IMAGE_LIMIT_BYTES,
        "zip_limit_bytes": ZIP_LIMIT_BYTES,
        "fits_zip_limit": package_total + context <= ZIP_LIMIT_BYTES,
    }


def unavailable_wheels(requirements: str, glibc: tuple[int, int] = BASE_GLIBC,
                       lock_path: Path = SOURCE_ROOT / "uv.lock") -> list[str]:  # fmt: skip
    """Pins of the `lambda` group with no wheel uv.lock knows of for CPython 3.11 on x86_64 Linux
    with this glibc: what `pip install --only-binary=:all:` in the image would fail on."""
    from packaging import tags
    from packaging.utils import parse_wheel_filename

    platforms = [f"manylinux_{glibc[0]}_{minor}_x86_64" for minor in range(glibc[1], -1, -1)]
    aliases = {(2, 17): "manylinux2014_x86_64", (2, 12): "manylinux2010_x86_64", (2, 5): "manylinux1_x86_64"}
    platforms += [alias for version, alias in aliases.items() if version <= glibc]
    supported = {*tags.cpython_tags((3, 11), platforms=platforms), *tags.compatible_tags((3, 11), platforms=platforms)}
    with lock_path.open("rb") as file:
        locked = {(p["name"], p["version"]): p for p in tomllib.load(file)["package"]}
    problems = []
    for name, version in pinned_distributions(requirements):
        package = locked.get((name, version))
        if package is None:
            continue  # not from the lock: nothing to check it against
        wheels = [wheel["url"].rsplit("/", 1)[-1] for wheel in package.get("wheels", [])]
        if not any(supported & set(parse_wheel_filename(wheel)[3]) for wheel in wheels):
            problems.append(f"{name}=={version}")
    return problems
