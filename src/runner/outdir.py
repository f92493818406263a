"""Who owns an output folder: the runner replaces only a folder it wrote, and only when nothing in it is someone else's.

The policy (README "Use your own data", ``python -m src.runner --help``):

* A finished run writes a stamp, ``OUT/.haic-run.json``, listing every file it wrote with its SHA-256.
* A later run may replace OUT as a whole only if OUT does not exist, is an empty folder, or carries
  the stamp and holds exactly the files the stamp lists, with the bytes the stamp records.
* Anything else is refused before any work (:class:`NotOurs`, exit code 2) and OUT is not touched:
  a non-empty folder without the stamp, a file that the run did not write (a note, a raw export, a
  checkpoint folder JupyterLab made), or a file that changed since the run wrote it. The message
  names the files and says what to do (choose another OUT, or move those files out yourself).

So a run never deletes or overwrites a file it did not write itself. The stamp holds no time and no
path, so the same run gives the same bytes.
"""
from __future__ import annotations

import json
from pathlib import Path

from src.privacy import file_sha256

STAMP_NAME = ".haic-run.json"
STAMP_KIND = "haic-spp runner output"
SHOWN = 10


class NotOurs(Exception):
    """The output folder holds something the runner did not write; nothing was changed."""


def _entries(folder: Path) -> tuple[dict[str, Path], set[str]]:
    """Files (relative name -> path, symbolic links counted as files) and folders below `folder`."""
    files, folders = {}, set()
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_dir() and not path.is_symlink():
            folders.add(name)
        else:
            files[name] = path
    files.pop(STAMP_NAME, None)
    return files, folders


def write_stamp(folder: Path) -> Path:
    """Write the stamp of `folder` (every file below it and its SHA-256); return its path."""
    files, _ = _entries(folder)
    stamp = {"kind": STAMP_KIND, "files": {name: file_sha256(path) for name, path in files.items()}}
    target = folder / STAMP_NAME
    target.write_text(json.dumps(stamp, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target


def _listing(names: list[str]) -> str:
    shown = "\n".join(f"  {name}" for name in names[:SHOWN])
    more = f"\n  ... and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
    return shown + more


def foreign_files(folder: Path) -> tuple[str, list[str]]:
    """Why `folder` may not be replaced and which entries are not the runner's: ("", []) when it may.

    The reason is "no-stamp" (a non-empty folder the runner never wrote), "unreadable-stamp",
    or "foreign" (files not listed in the stamp, or changed since).
    """
    if not folder.exists() or (folder.is_dir() and not any(folder.iterdir())):
        return "", []
    stamp_path = folder / STAMP_NAME
    files, folders = _entries(folder)
    if not stamp_path.is_file():
        return "no-stamp", sorted(files) + sorted(f"{d}/" for d in folders if "/" not in d)
    try:
        stamp = json.loads(stamp_path.read_text(encoding="utf-8"))
        listed = dict(stamp["files"])
        if stamp.get("kind") != STAMP_KIND:
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return "unreadable-stamp", [STAMP_NAME]
    parents = {p.as_posix() for name in listed for p in Path(name).parents if p.as_posix() != "."}
    foreign = [f"{name} (not written by a run)" for name in files if name not in listed]
    foreign += [f"{name} (changed since the run wrote it)" for name, path in files.items()
                if name in listed and (path.is_symlink() or file_sha256(path) != listed[name])]
    foreign += [f"{name}/ (not written by a run)" for name in sorted(folders - parents)]
    return ("foreign", sorted(foreign)) if foreign else ("", [])


def check_replaceable(folder: Path) -> None:
    """Raise :class:`NotOurs`, with a message naming the files, unless a run may replace `folder`."""
    reason, names = foreign_files(folder)
    if not reason:
        return
    what = {
        "no-stamp": f"{folder} is not empty and was not written by this project's runner (it has no {STAMP_NAME}).",
        "unreadable-stamp": f"{folder}/{STAMP_NAME} is not a stamp this runner wrote.",
        "foreign": f"{folder} holds files that the last run did not write, or that changed since:",
    }[reason]
    raise NotOurs(
        f"refusing to replace the output folder: {what}\n{_listing(names)}\n"
        "A run replaces its output folder as a whole, and never deletes or overwrites a file it did not write. "
        "Nothing was changed. Choose a new or empty OUT, or move these files out of it yourself."
    )
