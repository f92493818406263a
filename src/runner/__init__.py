"""The runner: execute every analysis notebook with papermill and publish the results atomically.

``python -m src.runner --data DATA --out OUT`` (what ``make run`` calls; ``--help`` says more):

1. checks OUT and validates the data folder with :func:`src.validate.check_data`
   (an invalid folder stops the run before anything is written);
2. executes ``notebooks/NN_*.ipynb`` in numeric order, up to ``HAIC_JOBS`` side by side, into a fresh
   temporary folder next to OUT (``OUT.parent/.<OUT.name>.build-<random>``), the kernels running in a
   private *stage* folder where the notebooks see the data and output folders only as ``DATA`` and ``OUT``;
3. collects the notebooks' ``tables/paper_vs_run_<notebook>.csv`` files into one ``scorecard.csv`` and
   renders every executed notebook into one self-contained ``report.html``;
4. searches the finished folder for absolute paths of the machine and, in a private run, for every
   identifier and date of the input, and refuses to publish on a hit;
5. stamps the finished folder and swaps it into place as OUT: OUT is either the complete result of one
   successful run or left exactly as it was.

Layout of OUT after a successful run::

    OUT/tables/          tables written by the notebooks
    OUT/figures/         figures written by the notebooks
    OUT/notebooks/       executed copy of every notebook (with outputs)
    OUT/scorecard.csv    published vs reproduced, one row per published number
    OUT/report.html      all executed notebooks as one HTML page
    OUT/lesson.html      with --lesson, instead of report.html and the scorecard: the lesson
                         edition, chapters 01-07 only (src.present.report; OUT must not be outputs/)

The rooms of the runner, in the order a run meets them:

- :mod:`~src.runner.cli`: the command line, its help text and exit codes (``__main__`` calls its ``main``);
- :mod:`~src.runner.params`: which notebooks run, in which order, and their parameters;
- :mod:`~src.runner.safety`: what a run refuses (an output folder it must not replace, invalid data, a leak);
- :mod:`~src.runner.outdir`: the stamp that tells an earlier run's output from the user's files;
- :mod:`~src.runner.pipeline`: one run from start to end (:func:`run_pipeline`), its build folder and the
  swap into place;
- :mod:`~src.runner.kernels`: the stage folder, the kernels over Unix sockets, one notebook with papermill;
- :mod:`~src.runner.forkserver`: kernels forked from one process that has imported the stack once;
- :mod:`~src.runner.schedule`: the notebooks side by side in worker threads, and the message of a failure;
- :mod:`~src.runner.interrupts`: SIGINT, SIGTERM and SIGHUP stop a run cleanly;
- :mod:`~src.runner.errors`: the errors of a run and their exit codes;
- :mod:`~src.runner.bench`: ``make bench``, the wall time of a run beside its floor.

Below, the runner's Python face: use :func:`run_pipeline` (it raises :class:`PipelineError` subclasses) and
:func:`main` (it maps them to exit codes). These are the same objects as in their modules; a test that
replaces a name patches it in the module that looks it up (``src.runner.pipeline.validate_data``), not here.
"""

from src.config import ROOT  # noqa: F401  (the project, which no run writes into)
from src.runner.cli import build_parser, main  # noqa: F401
from src.runner.errors import (Interrupted, InvalidDataError, NoNotebooksError, NotebookExecutionError,  # noqa: F401
                               PipelineError, PrivacyError, PublishError, ReportError, UnsafeOutputError)
from src.runner.params import declared_parameters, discover_notebooks, notebook_parameters  # noqa: F401
from src.runner.pipeline import run_pipeline  # noqa: F401
from src.runner.safety import check_privacy, machine_paths  # noqa: F401
