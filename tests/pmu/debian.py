"""Debian packages for the arm64 PMU lane: download once (``apt-get download``) into a cache, unpack
with ``dpkg -x``. Nothing is installed into the host system.

Host-architecture packages (QEMU, the cross compiler) bring the libraries they need that the host
lacks: their ``Depends``/``Pre-Depends`` are followed, skipping what dpkg already has installed.
Guest (arm64) packages are an explicit list: a Python-only initramfs needs only a few libraries.
"""
from __future__ import annotations

import glob
import json
import os
import re
import subprocess
from functools import lru_cache
from typing import Dict, Iterable, List, Optional, Sequence, Set


class PackageError(RuntimeError):
    """A package could not be had; the message names it and says what to do."""


def _run(cmd: Sequence[str], cwd: Optional[str] = None) -> subprocess.CompletedProcess:
    return subprocess.run(list(cmd), cwd=cwd, capture_output=True, text=True)


def ensure_arm64_architecture(log) -> None:
    """``dpkg --add-architecture arm64`` and ``apt-get update`` once, if arm64 is not known yet."""
    have = _run(["dpkg", "--print-foreign-architectures"]).stdout.split()
    if "arm64" in have:
        return
    if os.geteuid() != 0:
        raise PackageError("apt does not know the arm64 architecture yet: run as root "
                           "`dpkg --add-architecture arm64 && apt-get update`, then rerun")
    log("dpkg --add-architecture arm64; apt-get update")
    for cmd in (["dpkg", "--add-architecture", "arm64"], ["apt-get", "update", "-q"]):
        r = _run(cmd)
        if r.returncode:
            raise PackageError(f"`{' '.join(cmd)}` failed: {r.stderr.strip()[-400:]}")


@lru_cache(maxsize=None)
def _installed_set() -> Set[str]:
    r = _run(["dpkg-query", "-W", "-f=${Package} ${Architecture} ${db:Status-Status}\n"])
    host = _run(["dpkg", "--print-architecture"]).stdout.strip()
    out: Set[str] = set()
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "installed":
            out.add(f"{parts[0]}:{parts[1]}")
            if parts[1] in (host, "all"):
                out.add(parts[0])
    return out


def installed(pkg: str) -> bool:
    """True when dpkg has ``pkg`` (host architecture unless ``pkg`` names one) installed."""
    return pkg in _installed_set()


_DEPENDS: Dict[str, List[List[str]]] = {}


def _parse_depends(block: List[str]) -> List[List[str]]:
    groups: List[List[str]] = []
    continuing = pending_virtual = False
    for line in block:
        m = re.match(r"^  (\|?)(PreDepends|Depends): (.+)$", line)
        if m:
            name = m.group(3).strip()
            if continuing:
                groups[-1].append(name)
            else:
                groups.append([name])
            continuing = m.group(1) == "|"
            pending_virtual = name.startswith("<")
        elif pending_virtual and line.startswith("    "):  # a provider of the virtual package above
            groups[-1].append(line.strip())
        else:
            pending_virtual = False
    return [[a for a in g if not a.startswith("<")] for g in groups]


def depends_many(pkgs: Sequence[str]) -> Dict[str, List[List[str]]]:
    """``Depends`` and ``Pre-Depends`` of each package as groups of alternatives (virtual names
    resolved to their providers); one ``apt-cache`` call for all that are not known yet."""
    todo = [p for p in dict.fromkeys(pkgs) if p not in _DEPENDS]
    if todo:
        r = _run(["apt-cache", "depends", "--no-recommends", "--no-suggests", "--no-conflicts", "--no-breaks",
                  "--no-replaces", "--no-enhances", *todo])
        blocks: Dict[str, List[str]] = {}
        current = None
        for line in r.stdout.splitlines():
            if line and not line.startswith(" "):
                current = line.strip()
                blocks[current] = []
            elif current is not None:
                blocks[current].append(line)
        for p in todo:
            block = blocks.get(p, blocks.get(p.split(":")[0]))
            if block is None:
                raise PackageError(f"apt does not know the package {p!r} ({r.stderr.strip()[-200:]}). "
                                   "Run `apt-get update`; on a release other than Debian 12 the name may differ "
                                   "(for :arm64 names: `dpkg --add-architecture arm64` first).")
            _DEPENDS[p] = _parse_depends(block)
    return {p: _DEPENDS[p] for p in pkgs}


def depends(pkg: str) -> List[List[str]]:
    return depends_many([pkg])[pkg]


def host_closure(roots: Iterable[str], skip: Iterable[str] = ()) -> List[str]:
    """``roots`` plus every package they need that the host does not have installed (breadth first,
    one ``apt-cache`` call per level)."""
    skip = set(skip)
    out: List[str] = list(dict.fromkeys(roots))
    level = list(out)
    while level:
        nxt: List[str] = []
        for pkg, groups in depends_many(level).items():
            for group in groups:
                if not group or any(installed(a) or a in out or a in nxt for a in group):
                    continue
                if group[0] not in skip:
                    nxt.append(group[0])
        out += nxt
        level = nxt
    return out


class Cache:
    """Downloaded .deb files and their unpacked trees under ``root`` (reused across runs)."""

    def __init__(self, root: str, log):
        self.root = root
        self.debs = os.path.join(root, "debs")
        self.log = log
        os.makedirs(self.debs, exist_ok=True)

    def resolve(self, name: str, compute) -> List[str]:
        """``compute()`` (a package list), remembered until apt's lists or dpkg's status change
        (each ``apt-cache`` call takes seconds)."""
        stamp = []
        for path in ("/var/lib/apt/lists", "/var/lib/dpkg/status"):
            try:
                stamp.append(int(os.stat(path).st_mtime))
            except OSError:
                stamp.append(0)
        path = os.path.join(self.root, "resolved.json")
        try:
            with open(path) as f:
                known = json.load(f)
        except (OSError, ValueError):
            known = {}
        entry = known.get(name)
        if entry and entry.get("stamp") == stamp:
            return entry["packages"]
        packages = compute()
        known[name] = {"stamp": stamp, "packages": packages}
        with open(path + ".tmp", "w") as f:
            json.dump(known, f, indent=1)
        os.replace(path + ".tmp", path)
        return packages

    def _cached(self, pkg: str) -> Optional[str]:
        name, _, arch = pkg.partition(":")
        pattern = f"{name}_*_{arch}.deb" if arch else f"{name}_*.deb"
        found = sorted(glob.glob(os.path.join(self.debs, pattern)))
        if not arch:
            found = [f for f in found if not f.endswith("_arm64.deb")] or found
        return found[-1] if found else None

    def download(self, pkgs: Sequence[str]) -> Dict[str, str]:
        """The .deb of every package, downloading the missing ones (one ``apt-get download``)."""
        missing = [p for p in pkgs if self._cached(p) is None]
        if missing:
            self.log(f"apt-get download {len(missing)} package(s): {' '.join(missing)}")
            r = _run(["apt-get", "download", "-q", *missing], cwd=self.debs)
            if r.returncode:
                # find which package failed, to name it
                for p in missing:
                    if self._cached(p) is None:
                        one = _run(["apt-get", "download", "-q", p], cwd=self.debs)
                        if one.returncode:
                            raise PackageError(
                                f"cannot download the Debian package {p!r}: {one.stderr.strip()[-300:]}. "
                                "Check that deb.debian.org is reachable and `apt-get update` has run "
                                "(for :arm64 names: `dpkg --add-architecture arm64` first).")
        out = {}
        for p in pkgs:
            path = self._cached(p)
            if path is None:
                raise PackageError(f"the Debian package {p!r} is not in {self.debs} after apt-get download")
            out[p] = path
        return out

    def unpack(self, pkgs: Sequence[str], dest: str) -> str:
        """Download and ``dpkg -x`` every package into ``dest`` (skipped when already unpacked from
        the same .deb files)."""
        debs = self.download(pkgs)
        stamp = os.path.join(dest, ".unpacked")
        want = "\n".join(sorted(os.path.basename(d) for d in debs.values()))
        if os.path.exists(stamp) and open(stamp).read() == want:
            return dest
        os.makedirs(dest, exist_ok=True)
        for p, deb in debs.items():
            r = _run(["dpkg", "-x", deb, dest])
            if r.returncode:
                raise PackageError(f"dpkg -x {deb} failed: {r.stderr.strip()[-300:]}")
        with open(stamp, "w") as f:
            f.write(want)
        return dest
