"""Imports run one way: settings and the study's design at the bottom, then data, loading and validation,
statistics and tables above them, the pipeline (runner, report) and the notebooks' front door
(`helpers`, which no module of `src` imports) on top.

A circle of imports, or a lower module importing a higher one (even inside a function), is the
sign that a function lives in the wrong room (STYLE.md, "A house with one direction")."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

# Lower number = lower floor. A module may import modules of its own floor or below, never above.
LAYERS = {
    # settings (paths, file names, notes) and the study's design: import nothing of src
    "config": 0, "study": 0,
    # data, loading, derived frames, number formatting, validation
    "privacy": 1, "outdir": 1, "faststats": 1, "validate": 1, "cohort": 1, "formats": 1,
    # figure styles
    "figures": 2,
    # statistics and figures
    "survival": 3, "appraisal": 3, "audit": 3, "flow": 3, "zph": 3, "competing": 3, "cutoffs": 3, "teaching": 3,
    # publication tables and the comparison with the paper
    "tables": 4, "paper": 4,
    # the pipeline: building data, running notebooks, the report
    "reconstruct": 5, "example_cohort": 5, "report": 5, "runner": 5, "bench": 5, "forkserver": 5,
    # the notebooks' front door: imported by no module of src
    "helpers": 6,
}
TOP = LAYERS["runner"]  # where a module not yet placed stands (ensemble, publish, truth, selfcheck, ...)
FRONT_DOOR = "helpers"
PIPELINE = {"runner", "report"}  # they run the notebooks: a notebook must not import them


def layer(module: str) -> int:
    """A module not yet placed counts as the pipeline's floor: it may import anything but the front door,
    nothing below may import it."""
    return LAYERS.get(module, TOP)


def src_imports(tree: ast.AST) -> set[str]:
    """Names of `src` modules imported anywhere in *tree* (top level or inside functions)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "src":
                found.update(alias.name for alias in node.names)
            elif node.module.startswith("src."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("src."))
    return found


def import_graph() -> dict[str, set[str]]:
    return {path.stem: src_imports(ast.parse(path.read_text(encoding="utf-8")))
            for path in sorted(SRC.glob("*.py")) if path.stem != "__init__"}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of *graph* as a list of modules, or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_import_graph_has_no_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_no_module_imports_a_higher_one():
    upward = [f"{module} (floor {layer(module)}) imports {target} (floor {layer(target)})"
              for module, targets in import_graph().items() for target in sorted(targets)
              if layer(target) > layer(module)]
    assert not upward, "upward imports:\n" + "\n".join(upward)


def test_notebooks_do_not_import_the_pipeline():
    offenders = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
        bad = src_imports(ast.parse(code)) & PIPELINE
        if bad:
            offenders.append(f"{path.name}: {', '.join(sorted(bad))}")
    assert not offenders, "notebooks importing the runner or the report:\n" + "\n".join(offenders)


def test_the_checker_sees_imports_inside_functions_and_cycles():
    tree = ast.parse("def f():\n    from src import audit\n    import src.helpers\n")
    assert src_imports(tree) == {"audit", "helpers"}
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_src_module_imports_the_front_door():
    importers = sorted(module for module, targets in import_graph().items() if FRONT_DOOR in targets)
    assert not importers, f"src modules importing {FRONT_DOOR} (import from config, study, cohort or formats): " \
        + ", ".join(importers)


def test_settings_and_design_import_nothing_of_src():
    graph = import_graph()
    assert graph["config"] == set() and graph["study"] == set()


def _loaded_by(statement: str) -> set[str]:
    """Top-level packages and src modules in sys.modules after *statement* in a fresh Python."""
    code = f"import sys; {statement}; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_the_runner_and_the_front_door_load_neither_pandera_nor_scipy():
    for statement in ("import src.runner", "from src import helpers"):
        loaded = _loaded_by(statement)
        heavy = sorted(m for m in loaded if m.split(".")[0] in {"pandera", "scipy"} or m == "src.validate")
        assert not heavy, f"{statement} loads {', '.join(heavy)}"
