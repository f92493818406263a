"""pytest set-up shared by the unit tests and nbval.

nbval executes the notebooks with their default parameters; OUTPUT_DIR=None
resolves to $HAIC_OUTPUT_DIR when it is set (see `helpers.resolve_paths`).
Pointing it at a temporary folder here keeps `make test` from rewriting the
committed results in `outputs/`; each notebook gets a folder of its own
(`pytest_runtest_setup`), so that notebooks run side by side never share one.

`make test` runs the suite on every core with pytest-xdist (`-n logical --dist loadscope`,
pyproject.toml). Which tests must stay together on one worker is decided here
(`_Scheduling`): the cells of one notebook (one kernel runs them in order), and the
tests that use one module-scoped fixture of their module (one pipeline run, one
reconstruction: built once, not once per worker). Every other test goes wherever a
core is free. (xdist's own loadgroup marks do nothing under pytest 9: xdist 3.8
renames `item._nodeid`, which pytest 9 no longer reads.)
"""
import ast
import os
import tempfile
from pathlib import Path

import pytest

try:
    from xdist.scheduler import LoadScopeScheduling
except ImportError:  # pytest without xdist (-p no:xdist): nothing to schedule
    LoadScopeScheduling = object

_OUTPUTS = Path(tempfile.mkdtemp(prefix="haic-test-outputs-"))
os.environ.setdefault("HAIC_OUTPUT_DIR", str(_OUTPUTS))

def _is_notebook_cell(item) -> bool:
    return item.path.suffix == ".ipynb"


def _sharing_tests(file: Path) -> set[str] | None:
    """The test functions of *file* that use, directly or through other fixtures of the file, a fixture of
    module, class or package scope defined in it; None when all of them do (an autouse one) or when they
    cannot be told apart (a syntax error)."""
    try:
        tree = ast.parse(file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    uses, shared = {}, set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            uses[node.name] = {a.arg for a in node.args.args}
            for decorator in node.decorator_list:
                scope = next((k.value for k in getattr(decorator, "keywords", []) if k.arg == "scope"), None)
                autouse = any(k.arg == "autouse" for k in getattr(decorator, "keywords", []))
                if isinstance(scope, ast.Constant) and scope.value in ("module", "class", "package"):
                    if autouse:
                        return None  # every test of the file uses it
                    shared.add(node.name)
    grown = True
    while grown:  # a fixture that uses a shared one is shared too
        grown = False
        for name, args in uses.items():
            if name not in shared and not name.startswith("test") and args & shared:
                shared.add(name)
                grown = True
    return {name for name, args in uses.items() if name.startswith("test") and args & shared}


# The longest units of work, longest first (seconds of a loaded two-core run, --durations): each goes to
# the next free worker before everything else, so that no long unit starts near the end of the run. Any
# other unit follows, in xdist's order (most tests first). A unit is named by its scope or a prefix of it.
_LONGEST_FIRST = (
    "tests/test_ensemble.py",  # ~200 s: two reconstructions
    "tests/test_outputs_current.py",  # ~95 s: the pipeline on the bundled data
    "tests/test_min_cell.py",  # ~75 s: the pipeline on five patients
    "tests/test_reconstruct.py",  # ~70 s: a reconstruction
    "tests/test_examples.py",  # ~60 s: the pipeline on the example cohort
    "tests/test_examples.py::test_a_cohort_in_which_nobody_progressed_runs_to_the_end",  # ~35 s: the pipeline
    "tests/test_makefile.py::test_a_privacy_refusal_is_exit_3_and_make_says_error_3",  # ~25 s: two runs
    "tests/test_parallel_run.py::test_parallel_and_sequential_runs_write_the_same_bytes",  # ~25 s: two runs
    "tests/test_appraisal.py::test_the_notebook",  # ~20 s each: notebook 07 on other cohorts
    "tests/test_possible_values.py::test_a_run_refuses_warnings_and_goes_on_when_they_are_accepted",
    "tests/test_european_csv.py::test_one_run_of_the_european_copy",
)


def _rank(scope: str) -> int:
    """Where *scope* comes in `_LONGEST_FIRST` (a module by its path, tests by a prefix of their id), or after it."""
    return next((i for i, name in enumerate(_LONGEST_FIRST) if scope == name or ("::" in name and scope.startswith(name))),
                len(_LONGEST_FIRST))


class _Scheduling(LoadScopeScheduling):
    """xdist's loadscope with this suite's units of work: the cells of one notebook (one kernel runs
    them in order); the tests of a module that use one of its module-scoped fixtures (a pipeline run, a
    reconstruction: built once, not once per worker), with the module's tests in classes; every other
    test on its own, wherever a core is free. The longest units (`_LONGEST_FIRST`) are handed out first."""

    def __init__(self, config, log=None):
        super().__init__(config, log)
        self._sharing: dict[str, set[str] | None] = {}
        self._ordered = False

    def _assign_work_unit(self, node):
        if not self._ordered:  # the queue is complete at the first assignment: longest units first
            units = sorted(self.workqueue.items(), key=lambda unit: _rank(unit[0]))  # stable: xdist's order after
            self.workqueue.clear()
            self.workqueue.update(units)
            self._ordered = True
        super()._assign_work_unit(node)

    def _split_scope(self, nodeid: str) -> str:
        path, _, rest = nodeid.partition("::")
        if path.endswith(".ipynb"):
            return path
        if path not in self._sharing:
            file = Path(self.config.rootpath) / path
            self._sharing[path] = _sharing_tests(file) if file.suffix == ".py" else set()
        sharing = self._sharing[path]
        name = rest.split("[", 1)[0]
        if sharing is None or "::" in name or name in sharing:
            return path
        return nodeid


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadscope":
        return _Scheduling(config, log)
    return None


@pytest.hookimpl(tryfirst=True)  # before nbval starts the notebook's kernel (the file's setup)
def pytest_runtest_setup(item):
    if _is_notebook_cell(item) and os.environ.get("HAIC_OUTPUT_DIR", "").startswith(str(_OUTPUTS)):
        folder = _OUTPUTS / item.path.stem
        folder.mkdir(exist_ok=True)
        os.environ["HAIC_OUTPUT_DIR"] = str(folder)
