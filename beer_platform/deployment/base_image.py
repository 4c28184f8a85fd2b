"""The image's base: Debian 12 (bookworm) with Debian's own python3.11, from two provenances.

- In AWS (`PRODUCTION_BASE`): Google's distroless `python3-debian12`, a public image assembled
  from Debian 12 packages: Debian's python3.11 at /usr/bin/python3.11, ca-certificates, no shell.
  Pin it by digest where you deploy from (`--base-image ...@sha256:...`).
- Here (`ensure_local_base`): no image registry can be reached, so the same Debian packages are
  made into an image with mmdebstrap (minbase + python3.11 + ca-certificates) and imported
  into the engine. Tagged by a hash of what makes it, so it is built once per machine.

The Dockerfile has no RUN step, so it builds on either (distroless has no shell to run one).

`extra_packages`: the same recipe with more of Debian's packages, for images that need them
(the local platform's code-location image adds podman, its remote client): one base per set.
"""

from __future__ import annotations

import hashlib
import fcntl
import shutil
import subprocess
import tempfile
from pathlib import Path

from beer_platform.deployment.engine import Engine

PRODUCTION_BASE = "gcr.io/distroless/python3-debian12"
SUITE = "bookworm"
PACKAGES = ("python3.11", "ca-certificates")
# minbase without what a function never uses, nearer to distroless: docs, man pages, locales,
# glibc's charset converters (Python has its own codecs), and, once installed, perl and apt
# (61 MB of the 172 MB minbase; nothing at run time calls them)
PURGED = ("perl", "perl-modules-5.36", "libperl5.36", "apt", "libapt-pkg6.0")
MMDEBSTRAP = ["mmdebstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
              "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*",
              "--dpkgopt=path-exclude=/usr/share/locale/*", "--dpkgopt=path-exclude=/usr/lib/x86_64-linux-gnu/gconv/*",
              "--dpkgopt=path-include=/usr/lib/x86_64-linux-gnu/gconv/gconv-modules*",
              "--aptopt=Acquire::Languages none",
              f"--customize-hook=chroot \"$1\" dpkg --purge --force-depends --force-remove-essential {' '.join(PURGED)}",
              SUITE]  # fmt: skip
LOCAL_BASE_REPOSITORY = "localhost/beer-platform-base"


class BaseImageUnavailable(RuntimeError):
    """The local base cannot be made (no mmdebstrap, or it failed)."""


def mmdebstrap_command(extra_packages: tuple[str, ...] = ()) -> list[str]:
    """MMDEBSTRAP, with `extra_packages` added to its --include."""
    if not extra_packages:
        return list(MMDEBSTRAP)
    return [f"--include={','.join((*PACKAGES, *extra_packages))}" if arg.startswith("--include=") else arg
            for arg in MMDEBSTRAP]  # fmt: skip


def local_base_tag(extra_packages: tuple[str, ...] = ()) -> str:
    """`localhost/beer-platform-base:bookworm[-<extra>...]-<hash of the mmdebstrap command>`."""
    command = mmdebstrap_command(extra_packages)
    digest = hashlib.sha256("\0".join(command).encode()).hexdigest()[:12]
    return f"{LOCAL_BASE_REPOSITORY}:{'-'.join((SUITE, *extra_packages, digest))}"


def ensure_local_base(engine: Engine, timeout: float = 900, extra_packages: tuple[str, ...] = ()) -> str:
    """The local base image's tag, made with mmdebstrap (~30-50 s) unless the engine has it. One
    process makes it at a time (a lock file): another waits, then finds it made."""
    tag = local_base_tag(extra_packages)
    if engine.exists(tag):
        return tag
    if shutil.which("mmdebstrap") is None:
        raise BaseImageUnavailable("mmdebstrap is not installed: it makes the local base image (`make setup` "
                                   "installs it on Debian/Ubuntu as root)")  # fmt: skip
    lock = Path(tempfile.gettempdir()) / f"beer-platform-{tag.rsplit(':', 1)[-1]}.lock"
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        if engine.exists(tag):  # made while this process waited
            return tag
        with tempfile.TemporaryDirectory(prefix="base-image-") as work:
            tarball = Path(work) / "base.tar"
            done = subprocess.run([*mmdebstrap_command(extra_packages), str(tarball)], capture_output=True,
                                  text=True, timeout=timeout)  # fmt: skip
            if done.returncode != 0:
                raise BaseImageUnavailable(f"mmdebstrap failed ({done.returncode}):\n{done.stderr[-3000:]}")
            engine.import_tarball(tarball, tag)
    return tag
    if shutil.which("mmdebstrap") is None:
        raise BaseImageUnavailable("mmdebstrap is not installed: it makes the local base image (`make setup` "
                                   "installs it on Debian/Ubuntu as root)")  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="base-image-") as work:
        tarball = Path(work) / "base.tar"
        done = subprocess.run([*mmdebstrap_command(extra_packages), str(tarball)], capture_output=True, text=True,
                              timeout=timeout)  # fmt: skip
        if done.returncode != 0:
            raise BaseImageUnavailable(f"mmdebstrap failed ({done.returncode}):\n{done.stderr[-3000:]}")
        engine.import_tarball(tarball, tag)
    return tag
