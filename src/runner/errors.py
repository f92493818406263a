"""What can go wrong in a run: the errors :func:`src.runner.pipeline.run_pipeline` raises, each with the exit
status :func:`src.runner.cli.main` returns for it, and the type of the progress log every step writes to."""

from __future__ import annotations

from typing import Callable

Log = Callable[[str], None]


class PipelineError(Exception):
    """Base class of every failure reported by :func:`run_pipeline`.

    ``str(error)`` is a complete human-readable message and ``exit_code`` is
    the exit status :func:`main` returns for it.
    """

    exit_code = 1


class InvalidDataError(PipelineError):
    """The data folder is missing or failed validation (exit code 2)."""

    exit_code = 2


class UnsafeOutputError(PipelineError):
    """The output folder is one the runner refuses to replace (exit code 2)."""

    exit_code = 2


class NoNotebooksError(PipelineError):
    """No notebook matched (exit code 2)."""

    exit_code = 2


class NotebookExecutionError(PipelineError):
    """A notebook raised an error or its kernel failed (exit code 1)."""

    exit_code = 1

    def __init__(self, notebook: str, message: str):
        self.notebook = notebook
        super().__init__(message)


class PrivacyError(PipelineError):
    """The output contains an identifier, a date or a folder name of the input, or an absolute path."""

    exit_code = 3


class Interrupted(PipelineError):
    """The run was interrupted (SIGINT, SIGTERM or SIGHUP); OUT untouched, temporary folders removed."""

    exit_code = 130


class ReportError(PipelineError):
    """The scorecard or the HTML report could not be built (exit code 1)."""

    exit_code = 1


class PublishError(PipelineError):
    """The finished build could not be moved into place (exit code 1)."""

    exit_code = 1
