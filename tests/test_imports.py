"""Imports run one way, floor by floor (README, "Layout"): settings and the study's design at the bottom, then
validation, the loaded cohort, statistics, presentation, the paper and the course, synthetic cohorts, the pipeline,
and the notebooks' front door (`helpers`, which no module of `src` imports) on top. A folder of src is one room:
its modules may import each other (without a circle); a room imports only rooms of lower floors.

Also here: a module is read in one sitting (at most 800 lines), a function in a screenful or two (80 lines).

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

# The floors of the house (README, "Layout"). A room is a folder of src (its modules share the room) or a loose
# module. Lower number = lower floor: a room may import its own floor's modules only within itself, and rooms of
# lower floors; never a room of its own floor or above.
FLOORS = {
    # settings (paths, file names, notes), the study's design, numbers as printed: import nothing of src
    "config": 0, "study": 0, "formats": 0,
    # reading and checking a cohort folder
    "validate": 1,
    # the loaded cohort and its derived frames; what may leave the machine
    "cohort": 2, "privacy": 2,
    # statistics (never matplotlib)
    "stats": 3,
    # figures, plots, the flow diagram, publication tables, the report
    "present": 4,
    # the paper's printed numbers and the comparison with them; the course's checks and simulations
    "paper": 5, "course": 5,
    # synthetic cohorts: reconstruction, example cohort, true cohorts, ensemble
    "synthetic": 6,
    # the pipeline: command line, kernels, output folders, bench
    "runner": 7,
    # the notebooks' front door: imported by no module of src
    "helpers": 8,
}
FRONT_DOOR = "helpers"
PIPELINE = {"runner"}  # it runs the notebooks: a notebook must not import it
MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80
# Functions allowed past MAX_FUNCTION_LINES, each with its reason (the closing note of issue 20 repeats them).
LONG_FUNCTIONS: dict[str, str] = {}


def room(module: str) -> str:
    """The room of a dotted module name below src: its folder, or the loose module itself."""
    return module.split(".")[0]


def modules() -> dict[str, Path]:
    """Every module of src by dotted name below src ("stats.survival", "config", "validate")."""
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        if parts == ("__init__",):
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def src_imports(tree: ast.AST) -> set[str]:
    """Dotted names (below src) of the src modules and packages imported anywhere in *tree* (top level or inside
    functions): `from src.stats import survival` gives "stats.survival", `from src.stats.survival import x` gives
    "stats.survival", `from src import helpers` gives "helpers"."""
    known = set(modules())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module != "src" and not node.module.startswith("src."):
                continue
            base = node.module[4:]
            for alias in node.names:
                name = f"{base}.{alias.name}" if base else alias.name
                found.add(name if name in known or not base else base)
        elif isinstance(node, ast.Import):
            found.update(a.name[4:] for a in node.names if a.name.startswith("src."))
    return found


def floor(module: str) -> int:
    return FLOORS[room(module)]


def import_graph() -> dict[str, set[str]]:
    return {name: src_imports(ast.parse(path.read_text(encoding="utf-8"))) for name, path in modules().items()}


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


def test_every_room_has_a_floor():
    assert not {room(m) for m in modules()} - set(FLOORS), "rooms without a floor in FLOORS"


def test_no_module_imports_its_floor_or_above_outside_its_room():
    upward = [f"{module} (floor {floor(module)}) imports {target} (floor {floor(target)})"
              for module, targets in import_graph().items() for target in sorted(targets)
              if room(target) != room(module) and floor(target) >= floor(module)]
    assert not upward, "imports against the floors:\n" + "\n".join(upward)


def test_notebooks_do_not_import_the_pipeline():
    offenders = []
    for path in sorted((ROOT / "notebooks").rglob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
        bad = {room(m) for m in src_imports(ast.parse(code))} & PIPELINE
        if bad:
            offenders.append(f"{path.name}: {', '.join(sorted(bad))}")
    assert not offenders, "notebooks importing the runner:\n" + "\n".join(offenders)


def test_the_checker_sees_imports_inside_functions_and_cycles():
    tree = ast.parse("def f():\n    from src.paper import audit\n    import src.helpers\n"
                     "    from src.stats.survival import logrank\n")
    assert src_imports(tree) == {"paper.audit", "helpers", "stats.survival"}
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None
    assert room("stats.survival") == "stats" and floor("stats.survival") < floor("present.tables")


def test_no_src_module_imports_the_front_door():
    importers = sorted(module for module, targets in import_graph().items() if FRONT_DOOR in targets)
    assert not importers, f"src modules importing {FRONT_DOOR} (import from config, study, cohort or formats): " \
        + ", ".join(importers)


def test_the_ground_floor_imports_nothing_of_src():
    graph = import_graph()
    assert all(not graph[m] for m in graph if floor(m) == 0)


def test_statistics_never_import_matplotlib():
    offenders = sorted(name for name, path in modules().items() if room(name) == "stats"
                       and "matplotlib" in {n.split(".")[0] for n in _imported_packages(path)})
    assert not offenders, "statistics modules importing matplotlib: " + ", ".join(offenders)


def _imported_packages(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_a_module_is_read_in_one_sitting():
    long_modules = [f"{name}: {len(path.read_text(encoding='utf-8').splitlines())} lines"
                    for name, path in modules().items()
                    if len(path.read_text(encoding="utf-8").splitlines()) > MAX_MODULE_LINES]
    assert not long_modules, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(long_modules)


def test_no_function_is_longer_than_a_screenful_or_two():
    long_functions = []
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES and f"{name}.{node.name}" not in LONG_FUNCTIONS:
                    long_functions.append(f"{name}.{node.name}: {length} lines")
    assert not long_functions, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long_functions)


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
