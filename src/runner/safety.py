"""What a run refuses: an output folder it must not replace, a data folder that fails validation, and an
output that would publish an identifier, a date or a folder name of the input, or a path of this machine.

OUT belongs to the user: :func:`check_output_dir` lets a run replace it only if it is new, empty, or holds
exactly what an earlier run wrote (the stamp of :mod:`src.runner.outdir`), and never the project, its
``data``, ``notebooks`` or ``src`` folders, the home folder, an ancestor of the project, a folder holding
``.git``, or a folder that contains the data or notebooks being run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from src import privacy
from src.config import ROOT
from src.runner import outdir
from src.runner.errors import InvalidDataError, Log, PrivacyError, UnsafeOutputError


def _is_within(path: Path, folder: Path) -> bool:
    """True if *path* is *folder* or lies below it (both resolved)."""
    return path == folder or folder in path.parents


def check_output_dir(out_dir: Path, protected: Iterable[Path] = ()) -> None:
    """Raise :class:`UnsafeOutputError` if *out_dir* must not be replaced.

    *out_dir* must be resolved.  *protected* are further folders (the data
    and notebook folders of the run) that must not lie inside OUT, since
    OUT is deleted and regenerated.
    """
    forbidden = {ROOT, ROOT / "data", ROOT / "notebooks", ROOT / "src"}
    try:
        forbidden.add(Path.home().resolve())
    except RuntimeError:  # no home folder known
        pass
    reason = None
    if out_dir in forbidden:
        reason = "it is a project or home folder"
    elif _is_within(ROOT, out_dir):
        reason = "it contains the project"
    elif any(_is_within(Path(p).resolve(), out_dir) for p in protected):
        reason = "it contains the data or the notebooks being run"
    elif out_dir.exists() and not out_dir.is_dir():
        reason = "it exists and is not a folder"
    elif (out_dir / ".git").exists():
        reason = "it holds a .git entry"
    if reason:
        raise UnsafeOutputError(
            f"refusing to use {out_dir} as the output folder: {reason}.\n"
            "The output folder is replaced as a whole by every run; "
            "choose a dedicated folder such as outputs/."
        )
    try:
        outdir.check_replaceable(out_dir)
    except outdir.NotOurs as error:
        raise UnsafeOutputError(str(error)) from error


def validate_data(data_dir: Path, accept_warnings: bool = False, log: Log = print) -> dict:
    """Validate *data_dir* with ``src.validate.load_and_validate``; return its tables.

    Raises :class:`InvalidDataError` carrying the validator's full report (errors,
    or plausibility warnings not acknowledged with *accept_warnings*).
    """
    if not data_dir.is_dir():
        raise InvalidDataError(f"data folder not found: {data_dir}")
    # Imported here so that the runner loads without the validation stack.
    from src.validate import DataValidationError, UnacknowledgedWarnings, check_data, format_report

    try:
        tables, warnings = check_data(data_dir)
        if len(warnings) and not accept_warnings:
            raise UnacknowledgedWarnings(warnings)
    except DataValidationError as error:
        raise InvalidDataError(f"invalid data in {data_dir}:\n{error}") from error
    if len(warnings):
        log(f"accepted (--accept-warnings): {format_report(warnings)}")
    return tables


def own_text(notebooks: Sequence[Path], parameters: Mapping[str, object]) -> str:
    """The text the run itself brings: every cell of the notebooks and the parameters given.

    A date or a word found here (a documented era start, a default cut-off) is not patient data,
    so the leak search does not count it (:func:`src.privacy.find_leaks`)."""
    parts = [json.dumps(dict(parameters), sort_keys=True, default=str)]
    for path in notebooks:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
        parts.extend("".join(cell.get("source", "")) for cell in cells)
    return "\n".join(parts)


def machine_paths(*folders: Path) -> set[str]:
    """Absolute paths that must not appear in a shared output: the given folders, the project and
    the home folder (each as given and resolved)."""
    paths = {ROOT, *folders}
    try:
        paths.add(Path.home())
    except RuntimeError:
        pass
    return {str(p) for folder in paths for p in (Path(folder), Path(folder).resolve())} - {"/"}


def check_privacy(build: Path, tables: Mapping[str, object] | None, names: Iterable[str] = (),
                  allowed: str = "", log: Log = print) -> None:
    """Refuse to publish (:class:`PrivacyError`) an output that contains one of *names* (absolute
    paths, the data folder's name) or, when *tables* are given (a private run), an identifier or a
    date of the input. Whatever also appears in *allowed* (:func:`own_text`) is not counted."""
    sensitive = privacy.sensitive_values(tables or {}, names)
    leaks = privacy.find_leaks(build, sensitive, allowed)
    if leaks:
        shown = "\n".join(f"  {Path(f).relative_to(build)}: {s}" for f, s in leaks[:20])
        more = f"\n  ... and {len(leaks) - 20} more" if len(leaks) > 20 else ""
        advice = ""
        if any(s.startswith("id ") and s[3:].isdigit() for _, s in leaks):
            advice = ("\nIdentifiers made of digits only are found wherever that number is printed (a count, "
                      "a table row). Replace patient_id by pseudonyms with a letter (e.g. P0012); "
                      "the results do not depend on them.")
        raise PrivacyError(f"{len(leaks)} identifier(s), date(s) or folder name(s) of the input, or path(s) of "
                           f"this machine, found in the output; nothing was published:\n{shown}{more}{advice}")
    what = "identifier, date or folder name of the input" if tables is not None else "name of the data folder"
    log(f"privacy check: no {what} and no path of this machine in the output")
