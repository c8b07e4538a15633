"""Shipped files, read only when their bytes are the ones recorded: a damaged or altered file
is refused, never silently used."""

from __future__ import annotations

import hashlib
import pathlib


def sha256(path) -> str:
    """The file's SHA-256 as 64 hex digits, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checked_file(path, shipped, shipped_sha256: str, expected_sha256: str | None = None, *,
                 made_by: str | None = None):
    """``path`` (default ``shipped``) as a Path, after checking that its sha256 is
    ``expected_sha256`` (default ``shipped_sha256``, the hash recorded for the shipped file).

    Raises ``FileNotFoundError`` when the file is missing and ``ValueError`` naming the file
    and both hashes when they differ; ``made_by`` (a script of ``scripts/``) is named in both
    messages as the way to make the file again.
    """
    path = pathlib.Path(shipped if path is None else path)
    expected = shipped_sha256 if expected_sha256 is None else expected_sha256
    remedy = "reinstall the package" + (f" or rerun {made_by}" if made_by else "")
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: {remedy} (nothing is downloaded)")
    got = sha256(path)
    if got != expected:
        raise ValueError(f"{path} has sha256 {got}, but {expected} was recorded for it: the "
                         f"file is damaged or altered; {remedy}")
    return path
