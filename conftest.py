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


class _Scheduling(LoadScopeScheduling):
    """xdist's loadscope with this suite's units of work: the cells of one notebook (one kernel runs
    them in order); the tests of a module that use one of its module-scoped fixtures (a pipeline run, a
    reconstruction: built once, not once per worker), with the module's tests in classes; every other
    test on its own, wherever a core is free."""

    def __init__(self, config, log=None):
        super().__init__(config, log)
        self._sharing: dict[str, set[str] | None] = {}

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
