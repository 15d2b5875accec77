"""A minimal writer of Linux initramfs archives (cpio "newc", optionally gzip-compressed).

The kernel unpacks concatenated archives in order, so a large cached base (the interpreter and its
libraries) and a small per-run archive (the code under test) can be written separately.
"""
from __future__ import annotations

import gzip
import os
import stat
from typing import BinaryIO, Iterable, Tuple

# (path inside the archive, mode, data or symlink target, (major, minor) of a device node)
Node = Tuple[str, int, bytes, Tuple[int, int]]


class NewcWriter:
    """Writes entries one by one; :meth:`close` appends the trailer."""

    def __init__(self, out: BinaryIO):
        self.out = out
        self.ino = 1

    def _pad(self, n: int) -> None:
        if n % 4:
            self.out.write(b"\0" * (4 - n % 4))

    def add(self, name: str, mode: int, data: bytes = b"", rdev: Tuple[int, int] = (0, 0),
            mtime: int = 0, nlink: int = 1) -> None:
        name_b = name.lstrip("/").encode() + b"\0"
        fields = (self.ino, mode, 0, 0, nlink, mtime, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0)
        header = b"070701" + b"".join(b"%08X" % f for f in fields)
        self.out.write(header + name_b)
        self._pad(len(header) + len(name_b))
        self.out.write(data)
        self._pad(len(data))
        self.ino += 1

    def add_tree(self, root: str, prefix: str = "", exclude: Iterable[str] = ()) -> None:
        """Every directory, file and symlink under ``root`` (parents first), at ``prefix``/relative path.
        Modification times are kept (timestamp-checked .pyc files need them)."""
        skip = tuple(exclude)
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, root)
            if rel_dir != "." and any(part in skip for part in rel_dir.split(os.sep)):
                dirnames[:] = []
                continue
            if rel_dir != ".":
                st = os.lstat(dirpath)
                self.add(os.path.join(prefix, rel_dir), stat.S_IFDIR | 0o755, mtime=int(st.st_mtime), nlink=2)
            for name in sorted(filenames) + sorted(d for d in dirnames if os.path.islink(os.path.join(dirpath, d))):
                if name in skip:
                    continue
                path = os.path.join(dirpath, name)
                rel = os.path.normpath(os.path.join(prefix, rel_dir, name))
                st = os.lstat(path)
                if stat.S_ISLNK(st.st_mode):
                    self.add(rel, stat.S_IFLNK | 0o777, os.readlink(path).encode(), mtime=int(st.st_mtime))
                elif stat.S_ISREG(st.st_mode):
                    with open(path, "rb") as f:
                        self.add(rel, stat.S_IFREG | stat.S_IMODE(st.st_mode), f.read(), mtime=int(st.st_mtime))

    def close(self) -> None:
        self.add("TRAILER!!!", 0)
        self.out.flush()


def write_archive(path: str, trees: Iterable[Tuple[str, str]], nodes: Iterable[Node] = (),
                  compress: bool = True, exclude: Iterable[str] = ()) -> str:
    """Write ``trees`` ((host directory, prefix in the archive)) then ``nodes`` to ``path``, atomically."""
    tmp = path + ".tmp"
    raw: BinaryIO = open(tmp, "wb")
    out: BinaryIO = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) if compress else raw
    try:
        w = NewcWriter(out)
        for root, prefix in trees:
            w.add_tree(root, prefix, exclude)
        for name, mode, data, rdev in nodes:
            w.add(name, mode, data, rdev)
        w.close()
    finally:
        if out is not raw:
            out.close()
        if raw.tell() % 4:  # the kernel looks for a following archive at a 4-byte boundary
            raw.write(b"\0" * (4 - raw.tell() % 4))
        raw.close()
    os.replace(tmp, path)
    return path


def directory(name: str) -> Node:
    return (name, stat.S_IFDIR | 0o755, b"", (0, 0))


def char_device(name: str, major: int, minor: int, mode: int = 0o600) -> Node:
    return (name, stat.S_IFCHR | mode, b"", (major, minor))


def file_node(name: str, data: bytes, mode: int = 0o644) -> Node:
    return (name, stat.S_IFREG | mode, data, (0, 0))


def symlink(name: str, target: str) -> Node:
    return (name, stat.S_IFLNK | 0o777, target.encode(), (0, 0))

