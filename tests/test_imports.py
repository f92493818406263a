"""Imports run one way: data and validation at the bottom, statistics and tables above them,
the pipeline (runner, report) and the notebooks on top.

A circle of imports, or a lower module importing a higher one (even inside a function), is the
sign that a function lives in the wrong room (STYLE.md, "A house with one direction")."""
from __future__ import annotations

import ast
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"

# Lower number = lower floor. A module may import modules of its own floor or below, never above.
LAYERS = {
    # data and validation
    "privacy": 0, "outdir": 0, "faststats": 0, "validate": 0,
    # paths, loading, derived frames, number formatting
    "helpers": 1, "figures": 1,
    # statistics and figures
    "survival": 2, "appraisal": 2, "audit": 2, "flow": 2, "zph": 2, "competing": 2, "cutoffs": 2, "teaching": 2,
    # publication tables and the comparison with the paper
    "tables": 3, "paper": 3,
    # the pipeline: building data, running notebooks, the report
    "reconstruct": 4, "example_cohort": 4, "report": 4, "runner": 4, "bench": 4,
}
TOP = max(LAYERS.values())
PIPELINE = {"runner", "report"}  # they run the notebooks: a notebook must not import them


def layer(module: str) -> int:
    """A module not yet placed counts as top floor: it may import anything, nothing below may import it."""
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
