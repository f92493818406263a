"""Every committed notebook is clean and has the project's shape.

No outputs and no execution counts (executed copies are build products);
exactly one cell tagged `parameters` (papermill injects after it); an H1
markdown title first, whose cell says the bundled data are synthetic; the
python3 kernelspec (papermill and nbval need it); every cell has its own id.
"""
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.fixture(params=NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def notebook(request):
    return nbformat.read(request.param, as_version=4)


def test_there_are_notebooks():
    assert NOTEBOOKS


def test_no_outputs_and_no_execution_counts(notebook):
    dirty = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
             and (cell.get("outputs") or cell.get("execution_count") is not None)]
    assert not dirty, f"cells with outputs or execution counts: {dirty}"


def test_exactly_one_parameters_cell(notebook):
    tagged = [i for i, cell in enumerate(notebook.cells) if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"cells tagged 'parameters': {tagged}"
    assert notebook.cells[tagged[0]].cell_type == "code"


def test_starts_with_h1_that_mentions_synthetic(notebook):
    first = notebook.cells[0]
    assert first.cell_type == "markdown"
    assert first.source.lstrip().startswith("# ")
    assert "synthetic" in first.source.lower()


def test_kernelspec_is_python3(notebook):
    assert notebook.metadata.get("kernelspec", {}).get("name") == "python3"


def test_every_cell_has_its_own_id(notebook):
    # nbformat 4.5 cell ids: without them papermill and nbval add random ones (and nbformat warns)
    assert (notebook.nbformat, notebook.nbformat_minor) >= (4, 5)
    ids = [cell.get("id") for cell in notebook.cells]
    assert all(ids) and len(set(ids)) == len(ids)
    nbformat.validate(notebook)
