"""`make bench`'s work bound (src/runner/bench.py): the notebooks' own cells, without parameters and imports."""
import json

from src.runner import bench


def _notebook(path, cells):
    """A minimal notebook: (source, tags) per code cell."""
    nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": f"c{i}", "metadata": {"tags": tags},
                     "outputs": [], "source": source} for i, (source, tags) in enumerate(cells)],
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
          "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))
    return path


def test_cell_seconds_leave_out_parameters_and_the_import_cell(tmp_path):
    # parameters (sleep 1.0) and the import cell (sleep 1.0) are left out; the two cells after it (0.3 + 0.4) count
    nb = _notebook(tmp_path / "01_x.ipynb", [
        ("import time\ntime.sleep(1.0)\nDATA_DIR = None\nOUTPUT_DIR = None", ["parameters"]),
        ("import time\nfrom src import helpers\ntime.sleep(1.0)", []),
        ("time.sleep(0.3)", []),
        ("time.sleep(0.4)", []),
    ])
    seconds = bench.cell_seconds([nb], str(tmp_path))
    assert list(seconds) == ["01_x"]
    assert 0.7 <= seconds["01_x"] < 1.5


def test_least_seconds_by_hand():
    # floor 20 s for 10 kernels: 2 s for one; cells 24 s on 2 cores: 12 s; report 3 s -> 17 s (ratio 0.85)
    assert bench.least_seconds(floor=20.0, kernels=10, work=24.0, finish=3.0, cores=2) == 17.0
