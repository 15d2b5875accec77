"""The commit and branch a run belongs to: GitHub Actions' variables, else git's."""
from __future__ import annotations

import os
import subprocess
from typing import Optional


def git(*args: str, cwd: Optional[str] = None) -> Optional[str]:
    """git's one-line answer in ``cwd`` (None where git or the repository is missing)."""
    try:
        out = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def current_commit(cwd: Optional[str] = None) -> Optional[str]:
    return os.environ.get("GITHUB_SHA") or git("rev-parse", "HEAD", cwd=cwd)


def current_branch(cwd: Optional[str] = None) -> str:
    return (os.environ.get("GITHUB_HEAD_REF") or os.environ.get("GITHUB_REF_NAME")
            or git("rev-parse", "--abbrev-ref", "HEAD", cwd=cwd) or "")
