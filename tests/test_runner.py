"""Tests of src.runner on tiny notebooks built in a temporary folder.

The real notebooks and the real data validation are replaced: the runner's
notebook folder is passed (or monkeypatched), and ``src.validate`` is a fake
module installed in ``sys.modules`` (the runner imports it lazily).
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
import types
from pathlib import Path

import nbformat
import pytest

from src import runner
from src.paper import compare
from src.present.report import LESSON_NAME, REPORT_TITLE, intro_markdown
from src.runner import cli, interrupts, kernels, outdir, params, pipeline, safety, schedule

PARAMETERS_SOURCE = 'DATA_DIR = None\nOUTPUT_DIR = None\nEXTRA = 0\nLABEL = "default"'

PUBLISHED = """\
id,value,decimals,relation,statistic,source,notebook
z_last,1,0,=,count,Table 1,02_beta
a_first,2,0,=,count,Abstract,01_alpha
m_shared,3.5,1,=,median,Results,02_beta
k_fallback,4,0,=,count,Figure 2,10_gamma
q_missing,5,0,=,count,Table 3,10_gamma
"""

ALPHA_REPORT = """\
id,source,published,reproduced,status,note
a_first,Abstract,2,2,match,
m_shared,Results,3.5,3.9,differs,from alpha
k_fallback,Figure 2,4,4,match,from alpha
extra_unknown,Nowhere,1,1,match,
"""

BETA_REPORT = """\
id,source,published,reproduced,status,note
z_last,Table 1,1,,not reproducible,needs patient data
m_shared,Results,3.5,3.5,match,from beta
"""


# --------------------------------------------------------------------------
# Helpers and fixtures
# --------------------------------------------------------------------------


class FakeDataValidationError(ValueError):
    """Stands in for src.validate.DataValidationError."""


def fake_validate_module() -> types.ModuleType:
    """A stand-in for src.validate: a data folder holding INVALID is invalid."""
    module = types.ModuleType("src.validate")
    module.DataValidationError = FakeDataValidationError
    module.calls = []

    def load_and_validate(data_dir, **options):
        module.calls.append(Path(data_dir))
        if (Path(data_dir) / "INVALID").exists():
            raise FakeDataValidationError("2 problems in patients.csv:\n  age: -3 in row 7 (must be >= 18)")
        return {}

    module.load_and_validate = load_and_validate
    module.check_data = lambda data_dir: (load_and_validate(data_dir), [])
    module.UnacknowledgedWarnings = FakeDataValidationError
    module.format_report = str
    return module


@pytest.fixture(autouse=True)
def fake_validate(monkeypatch):
    """Install the fake validation module for every test."""
    module = fake_validate_module()
    monkeypatch.setitem(sys.modules, "src.validate", module)
    return module


def write_notebook(folder: Path, stem: str, body: str, title: str | None = None, report: str | None = None) -> Path:
    """Write a tiny notebook: parameters cell, optional title, body, optional paper_vs_run file."""
    cells = []
    if title:
        cells.append(nbformat.v4.new_markdown_cell(f"# {title}\n\nSome text."))
    parameters = nbformat.v4.new_code_cell(PARAMETERS_SOURCE)
    parameters.metadata["tags"] = ["parameters"]
    cells.append(parameters)
    record = (
        "import json, os\n"
        "from pathlib import Path\n"
        "tables = Path(OUTPUT_DIR) / 'tables'\n"
        "tables.mkdir(parents=True, exist_ok=True)\n"
        "with open(tables / 'order.log', 'a') as handle:\n"
        f"    handle.write({stem!r} + '\\n')\n"
        "seen = dict(DATA_DIR=DATA_DIR, OUTPUT_DIR=OUTPUT_DIR, EXTRA=EXTRA, LABEL=LABEL, cwd=Path.cwd().name)\n"
        f"(tables / 'params_{stem}.json').write_text(json.dumps(seen))\n"
    )
    cells.append(nbformat.v4.new_code_cell(record))
    if report is not None:
        cells.append(nbformat.v4.new_code_cell(f"(tables / 'paper_vs_run_{stem}.csv').write_text({report!r})"))
    cells.append(nbformat.v4.new_code_cell(body))
    path = folder / f"{stem}.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def make_data(folder: Path) -> Path:
    """A data folder holding only published_results.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "published_results.csv").write_text(PUBLISHED)
    return folder


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every file (bytes) and folder (None) below *folder*, by relative path."""
    return {
        str(path.relative_to(folder)): (path.read_bytes() if path.is_file() else None)
        for path in sorted(folder.rglob("*"))
    }


def leftovers(out: Path) -> list[str]:
    """Hidden build/previous folders the runner may have left next to *out*."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


def read_scorecard(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def good_run(tmp_path_factory):
    """One successful run of three tiny notebooks (shared: kernels are slow)."""
    base = tmp_path_factory.mktemp("good")
    notebooks = base / "nbs"
    notebooks.mkdir()
    # Written in reverse order; decoys that must not run.
    write_notebook(notebooks, "10_gamma", "print('gamma done')")
    write_notebook(notebooks, "02_beta", "print('beta done')", title="Beta notebook", report=BETA_REPORT)
    write_notebook(notebooks, "01_alpha", "print('alpha done')", title="Alpha notebook", report=ALPHA_REPORT)
    write_notebook(notebooks, "notes", "raise RuntimeError('decoy ran')")
    write_notebook(notebooks, "1_short", "raise RuntimeError('decoy ran')")
    data = make_data(base / "data")
    out = base / "out"
    out.mkdir()
    (out / "stale.txt").write_text("from an older run")
    outdir.write_stamp(out)  # an earlier run's output: the runner may replace it
    lines = []
    with pytest.MonkeyPatch.context() as patch:
        module = fake_validate_module()
        patch.setitem(sys.modules, "src.validate", module)
        result = runner.run_pipeline(
            data, out, parameters={"EXTRA": 3, "LABEL": "x y"}, notebooks_dir=notebooks, log=lines.append
        )
    return types.SimpleNamespace(
        base=base, notebooks=notebooks, data=data, out=out, result=result, lines=lines, validated=module.calls
    )


# --------------------------------------------------------------------------
# Successful run
# --------------------------------------------------------------------------


def test_notebooks_run_in_numeric_order_with_parameters(good_run):
    out = good_run.out
    assert good_run.result == out.resolve()
    assert good_run.validated == [good_run.data.resolve()]
    order = (out / "tables" / "order.log").read_text().split()
    assert order == ["01_alpha", "02_beta", "10_gamma"]
    seen = json.loads((out / "tables" / "params_02_beta.json").read_text())
    # the notebooks see the folders only as links in a private stage folder, removed afterwards
    assert (seen["DATA_DIR"], seen["OUTPUT_DIR"]) == ("DATA", "OUT")
    assert seen["cwd"].startswith("haic-run-") and not (Path(tempfile.gettempdir()) / seen["cwd"]).exists()
    assert (seen["EXTRA"], seen["LABEL"]) == (3, "x y")


def test_progress_lines_and_summary(good_run):
    lines = good_run.lines
    assert lines[0].startswith("[1/3] 01_alpha ... ok (")
    assert lines[2].startswith("[3/3] 10_gamma ... ok (")
    assert "scorecard: 3 match, 0 differs, 1 not reproducible, 1 not computed" in lines
    assert any("extra_unknown" in line for line in lines)


def test_out_is_replaced_and_no_leftovers(good_run):
    assert not (good_run.out / "stale.txt").exists()
    assert leftovers(good_run.out) == []


def test_executed_copies_land_in_out_notebooks(good_run):
    folder = good_run.out / "notebooks"
    assert sorted(p.name for p in folder.iterdir()) == ["01_alpha.ipynb", "02_beta.ipynb", "10_gamma.ipynb"]
    nb = nbformat.read(folder / "01_alpha.ipynb", as_version=4)
    outputs = [o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert "alpha done\n" in outputs
    # No path of the machine: the folders are DATA and OUT, papermill's paths relative ones.
    assert nb.metadata.papermill.parameters["OUTPUT_DIR"] == "OUT"
    assert nb.metadata.papermill.input_path == nb.metadata.papermill.output_path == "notebooks/01_alpha.ipynb"
    for path in (good_run.out / "report.html", *folder.iterdir()):
        text = path.read_text()
        assert str(good_run.base) not in text and str(good_run.base.resolve()) not in text and ".build-" not in text


def test_scorecard_follows_published_order(good_run):
    rows = read_scorecard(good_run.out / "scorecard.csv")
    assert list(rows[0]) == compare.SCORECARD_COLUMNS
    assert [r["id"] for r in rows] == ["z_last", "a_first", "m_shared", "k_fallback", "q_missing"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["z_last"]["status"] == "not reproducible"
    assert by_id["m_shared"]["note"] == "from beta"  # the notebook named in published_results wins
    assert by_id["k_fallback"]["note"] == "from alpha"  # else any notebook that reported it
    assert by_id["q_missing"]["status"] == "not computed"
    assert by_id["q_missing"]["published"] == "5"
    assert "extra_unknown" not in by_id


def test_report_contains_every_notebook(good_run):
    report = (good_run.out / "report.html").read_text()
    assert REPORT_TITLE in report
    assert "synthetic cohort" in report
    for title, anchor in [("Alpha notebook", "Alpha-notebook"), ("Beta notebook", "Beta-notebook"), ("10_gamma", "10_gamma")]:
        assert title in report
        assert f'href="#{anchor}"' in report
        assert f'id="{anchor}"' in report
    assert "order.log" in report  # code inputs stay visible
    assert "gamma done" in report
    assert report.index("Alpha notebook") < report.index("beta done") < report.index("gamma done")
    # opens offline: nothing is fetched from the internet (nbconvert's lab template would load three scripts)
    assert "<script src=" not in report and "cdnjs" not in report


# --------------------------------------------------------------------------
# Failures leave OUT untouched
# --------------------------------------------------------------------------


def test_failing_notebook_exit_1_and_out_untouched(tmp_path, monkeypatch, capsys):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    write_notebook(notebooks, "01_fine", "print('fine')", title="Fine")
    write_notebook(notebooks, "02_broken", "x = 1\nraise ValueError('boom: 42 patients missing')", title="Broken")
    monkeypatch.setattr(cli, "NOTEBOOKS_DIR", notebooks)
    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    (out / "tables").mkdir(parents=True)
    (out / "sentinel.txt").write_text("keep me")
    (out / "tables" / "old.csv").write_text("a,b\n1,2\n")
    outdir.write_stamp(out)  # an earlier run's output, which a successful run would replace
    before = snapshot(out)

    code = runner.main(["--data", str(data), "--out", str(out)])

    captured = capsys.readouterr()
    assert code == 1
    assert "[1/2] 01_fine ... ok" in captured.out
    assert "[2/2] 02_broken ... FAILED" in captured.out
    assert "02_broken.ipynb" in captured.err
    assert "ValueError: boom: 42 patients missing" in captured.err
    assert "raise ValueError" in captured.err
    assert "In [" in captured.err
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_invalid_data_exit_2_and_out_untouched(tmp_path, monkeypatch, capsys, fake_validate):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    write_notebook(notebooks, "01_fine", "print('fine')")
    monkeypatch.setattr(cli, "NOTEBOOKS_DIR", notebooks)

    def no_kernel(*args, **kwargs):
        raise AssertionError("a notebook ran despite invalid data")

    monkeypatch.setattr(schedule, "execute_notebook", no_kernel)
    data = make_data(tmp_path / "data")
    (data / "INVALID").touch()
    out = tmp_path / "out"
    out.mkdir()
    (out / "sentinel.txt").write_text("keep me")
    outdir.write_stamp(out)
    before = snapshot(out)

    code = runner.main(["--data", str(data), "--out", str(out)])

    captured = capsys.readouterr()
    assert code == 2
    assert "age: -3 in row 7" in captured.err
    assert fake_validate.calls == [data.resolve()]
    assert snapshot(out) == before
    assert leftovers(out) == []


def test_missing_data_folder_exit_2(tmp_path, monkeypatch, capsys):
    (tmp_path / "nbs").mkdir()
    write_notebook(tmp_path / "nbs", "01_fine", "print('fine')")
    monkeypatch.setattr(cli, "NOTEBOOKS_DIR", tmp_path / "nbs")
    code = runner.main(["--data", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    assert code == 2
    assert "data folder not found" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("target", ["root", "data", "src", "notebooks", "ancestor"])
def test_refuses_project_folders(tmp_path, capsys, target):
    out = {
        "root": runner.ROOT,
        "data": runner.ROOT / "data",
        "src": runner.ROOT / "src",
        "notebooks": runner.ROOT / "notebooks",
        "ancestor": runner.ROOT.parent,
    }[target]
    data = make_data(tmp_path / "data")
    before = sorted(p.name for p in out.parent.iterdir())
    code = runner.main(["--data", str(data), "--out", str(out)])
    assert code == 2
    assert "refusing" in capsys.readouterr().err
    assert sorted(p.name for p in out.parent.iterdir()) == before


def test_refuses_out_containing_the_data(tmp_path):
    data = make_data(tmp_path / "project" / "data")
    with pytest.raises(runner.UnsafeOutputError):
        runner.run_pipeline(data, tmp_path / "project", notebooks_dir=tmp_path)


def test_refuses_out_with_git(tmp_path):
    (tmp_path / "out" / ".git").mkdir(parents=True)
    with pytest.raises(runner.UnsafeOutputError):
        safety.check_output_dir((tmp_path / "out").resolve())


def test_swap_restores_previous_when_rename_fails(tmp_path, monkeypatch):
    build, out = tmp_path / "build", tmp_path / "out"
    build.mkdir()
    out.mkdir()
    (out / "old.txt").write_text("old")
    outdir.write_stamp(out)
    real_rename = pipeline.os.rename

    def failing_rename(src, dst):
        if Path(src) == build:
            raise OSError("disk on fire")
        real_rename(src, dst)

    monkeypatch.setattr(pipeline.os, "rename", failing_rename)
    with pytest.raises(runner.PublishError):
        pipeline.swap_into_place(build, out)
    assert (out / "old.txt").read_text() == "old"
    assert leftovers(out) == []


# --------------------------------------------------------------------------
# Small pieces
# --------------------------------------------------------------------------


def test_discover_notebooks_order_and_filter(tmp_path):
    for name in ["10_ten", "02_two", "01_one", "notes", "1_one"]:
        (tmp_path / f"{name}.ipynb").write_text("{}")
    assert [p.stem for p in runner.discover_notebooks(tmp_path)] == ["01_one", "02_two", "10_ten"]
    assert [p.stem for p in runner.discover_notebooks(tmp_path, only="two")] == ["02_two"]
    assert [p.stem for p in runner.discover_notebooks(tmp_path, only="10_,01_")] == ["01_one", "10_ten"]
    assert [p.stem for p in runner.discover_notebooks(tmp_path, only="o,")] == ["01_one", "02_two"]


def test_parse_parameters():
    parsed = params.parse_parameters(["N=3", "ALPHA=0.05", "FLAG=true", "NAME=abc", "LIST=[1, 2]", "ZIP=007", "EMPTY="])
    assert parsed == {"N": 3, "ALPHA": 0.05, "FLAG": True, "NAME": "abc", "LIST": [1, 2], "ZIP": "007", "EMPTY": ""}
    for bad in ["novalue", "1X=2", "DATA_DIR=/tmp"]:
        with pytest.raises(ValueError):
            params.parse_parameter(bad)


def test_python_constants_are_parameters_not_strings():
    # `-p FIGURES=False` as a parameter cell spells it: the string "False" would be true in Python
    assert params.parse_parameters(["FIGURES=False", "PRIVATE=True", "DATA=None", "WORD=Falsehood"]) == {
        "FIGURES": False, "PRIVATE": True, "DATA": None, "WORD": "Falsehood"}


def test_bad_parameter_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["-p", "OUTPUT_DIR=/tmp/x"])
    assert exit_info.value.code == 2


def test_help_documents_options_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        runner.main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for needle in ["--data", "--out", "--only", "NAME=VALUE", "exit codes", "belongs to you", ".haic-run.json",
                   "--accept-warnings", "130"]:
        assert needle in text


def test_scorecard_without_published_list_keeps_reported_rows():
    reports = {"01_a": [{"id": "x", "status": "match"}], "02_b": [{"id": "y", "status": "differs"}]}
    rows, unknown = compare.build_scorecard(None, reports)
    assert [(r["id"], r["status"]) for r in rows] == [("x", "match"), ("y", "differs")]
    assert unknown == []
    assert compare.summarize_scorecard(rows) == "scorecard: 1 match, 1 differs, 0 not reproducible, 0 not computed"


def test_report_intro_says_synthetic_only_for_the_bundled_cohort(tmp_path):
    bundled = intro_markdown([], True, False, None)
    own = intro_markdown([], False, True, None)
    assert "synthetic cohort** (simulated" in bundled and "not on the bundled synthetic cohort" in own
    assert "synthetic cohort** (simulated" not in own
    assert "private mode" in own and "private mode" not in bundled


def test_executed_copies_carry_no_clock_times(good_run):
    # same data and parameters, same bytes: no timestamps or durations, cells numbered in order
    nb = json.loads((good_run.out / "notebooks" / "01_alpha.ipynb").read_text())
    text = json.dumps(nb)
    for key in ("start_time", "end_time", "duration", "iopub.execute_input", "shell.execute_reply"):
        assert key not in text
    assert [c["id"] for c in nb["cells"]] == [f"cell-{i}" for i in range(1, len(nb["cells"]) + 1)]
    assert nb["metadata"]["papermill"]["parameters"]["EXTRA"] == 3  # the rest of papermill's record is kept
    nbformat.validate(nbformat.reads(json.dumps(nb), as_version=4))


def test_normalise_executed_joins_split_streams_and_drops_clock_times(tmp_path):
    cell = {"cell_type": "code", "id": "a1b2", "execution_count": 1, "source": "print(...)",
            "metadata": {"execution": {"iopub.execute_input": "2026-01-01T00:00:00Z"},
                         "papermill": {"duration": 0.1, "start_time": "x", "end_time": "y", "status": "completed"}},
            "outputs": [{"output_type": "stream", "name": "stdout", "text": ["one\n", "two"]},
                        {"output_type": "stream", "name": "stdout", "text": ["\n"]},
                        {"output_type": "stream", "name": "stderr", "text": ["warning\n"]},
                        {"output_type": "stream", "name": "stdout", "text": ["three\n"]}]}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": [cell], "metadata": {"papermill": {"duration": 1.0, "parameters": {}}},
                                "nbformat": 4, "nbformat_minor": 5}))
    kernels.normalise_executed(path)
    nb = json.loads(path.read_text())
    (out,) = nb["cells"]
    assert out["id"] == "cell-1"
    assert out["metadata"] == {"papermill": {"status": "completed"}}
    assert nb["metadata"]["papermill"] == {"parameters": {}}
    assert [(o["name"], "".join(o["text"])) for o in out["outputs"]] == \
        [("stdout", "one\ntwo\n"), ("stderr", "warning\n"), ("stdout", "three\n")]


def test_kernels_talk_over_private_unix_sockets(tmp_path, capfd):
    # no TCP ports on localhost (ipykernel warns that other users could listen); the socket folder goes afterwards
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    write_notebook(notebooks, "01_alpha", "print('alpha done')")
    (tmp_path / "data").mkdir()
    (tmp_path / "build").mkdir()
    stage = kernels.make_stage(tmp_path / "data", tmp_path / "build")
    executed = kernels.execute_notebook(notebooks / "01_alpha.ipynb", stage, {})
    assert "alpha done" in executed.read_text()
    assert "without encryption" not in capfd.readouterr().err
    assert list((stage / "k").iterdir()) == []  # sockets and connection file gone with the kernel
    manager = kernels.ipc_kernel_manager(tmp_path)()
    assert manager.transport == "ipc" and Path(manager.ip).parent == tmp_path
    assert Path(manager.connection_file).parent == tmp_path


# --------------------------------------------------------------------------
# OUT belongs to the user: refused unless new, empty or an earlier run's
# --------------------------------------------------------------------------


def _no_kernel(*args, **kwargs):
    raise AssertionError("a notebook ran although OUT must be refused first")


@pytest.mark.parametrize("case", ["no stamp", "extra file", "extra folder", "changed file", "forged stamp"])
def test_out_that_is_not_the_runners_is_refused_before_any_work(tmp_path, monkeypatch, capsys, fake_validate, case):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    write_notebook(notebooks, "01_fine", "print('fine')")
    monkeypatch.setattr(cli, "NOTEBOOKS_DIR", notebooks)
    monkeypatch.setattr(schedule, "execute_notebook", _no_kernel)
    data = make_data(tmp_path / "data")
    out = tmp_path / "thesis"
    (out / "tables").mkdir(parents=True)
    (out / "tables" / "t.csv").write_text("a\n1\n")
    if case != "no stamp":
        outdir.write_stamp(out)
    if case == "extra file":
        (out / "my notes.docx").write_text("two years of work")
    elif case == "extra folder":
        (out / "raw export").mkdir()
    elif case == "changed file":
        (out / "tables" / "t.csv").write_text("a\n2\n")
    elif case == "forged stamp":
        (out / outdir.STAMP_NAME).write_text('{"files": {}}')
    before = snapshot(out)

    code = runner.main(["--data", str(data), "--out", str(out)])

    err = capsys.readouterr().err
    assert code == 2
    assert "refusing to replace the output folder" in err and "Nothing was changed" in err
    expected = {"no stamp": "tables/t.csv", "extra file": "my notes.docx", "extra folder": "raw export/",
                "changed file": "tables/t.csv (changed", "forged stamp": outdir.STAMP_NAME}[case]
    assert expected in err
    assert snapshot(out) == before
    assert fake_validate.calls == []  # refused before any work
    assert leftovers(out) == []


def test_an_empty_or_missing_out_is_used_and_stamped(good_run, tmp_path):
    stamp = json.loads((good_run.out / outdir.STAMP_NAME).read_text())
    written = {p.relative_to(good_run.out).as_posix() for p in good_run.out.rglob("*") if p.is_file()}
    assert set(stamp["files"]) == written - {outdir.STAMP_NAME}
    assert outdir.foreign_files(good_run.out) == ("", [])  # the next run may replace it
    (tmp_path / "empty").mkdir()
    assert outdir.foreign_files(tmp_path / "empty") == ("", [])
    assert outdir.foreign_files(tmp_path / "missing") == ("", [])


def test_a_file_added_during_the_run_stops_the_swap(tmp_path):
    build, out = tmp_path / "build", tmp_path / "out"
    build.mkdir()
    out.mkdir()
    outdir.write_stamp(out)
    (out / "added meanwhile.txt").write_text("mine")
    with pytest.raises(runner.UnsafeOutputError, match="added meanwhile"):
        pipeline.swap_into_place(build, out)
    assert (out / "added meanwhile.txt").read_text() == "mine" and build.exists()


INTERRUPT_SCRIPT = """
import sys, types
from pathlib import Path
from src.runner import cli
module = types.ModuleType("src.validate")
module.DataValidationError = ValueError
module.load_and_validate = lambda data_dir, **options: {{}}
module.check_data = lambda data_dir: ({{}}, [])
module.UnacknowledgedWarnings = ValueError
module.format_report = str
sys.modules["src.validate"] = module
cli.NOTEBOOKS_DIR = Path({notebooks!r})
sys.exit(cli.main(["--data", {data!r}, "--out", {out!r}]))
"""


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


def slow_interrupted_run(tmp_path):
    """A one-notebook run that sleeps 60 s after touching `started`, into an OUT an earlier run wrote: returns
    (`started`, `out`, OUT's snapshot before, the run's TMPDIR, the script that runs it)."""
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    started = tmp_path / "started"
    write_notebook(notebooks, "01_slow", f"import time\nopen({str(started)!r}, 'w').close()\ntime.sleep(60)")
    data = make_data(tmp_path / "data")
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("an earlier run")
    outdir.write_stamp(out)
    before = snapshot(out)
    temp = Path(tempfile.mkdtemp(prefix="hi-", dir="/tmp"))  # short: Unix socket paths have a length limit
    return started, out, before, temp, INTERRUPT_SCRIPT.format(notebooks=str(notebooks), data=str(data), out=str(out))


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_an_interrupted_run_leaves_out_as_it_was_and_cleans_up(tmp_path, signame):
    import os
    import signal
    import subprocess
    import time

    started, out, before, temp, script = slow_interrupted_run(tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=runner.ROOT, env={**os.environ, "TMPDIR": str(temp)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not started.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert started.exists(), f"the notebook never started: {proc.poll()} {proc.stderr.read() if proc.poll() else ''}"
    assert leftovers(out) and list(temp.iterdir())  # a build and a stage folder exist while it runs
    proc.send_signal(getattr(signal, signame))
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert [line for line in stderr.splitlines() if line.startswith("error:")] == \
        [line for line in stderr.splitlines() if "interrupted" in line]
    assert f"interrupted ({signame})" in stderr
    assert snapshot(out) == before
    assert leftovers(out) == []
    assert list(temp.iterdir()) == []  # stage folder, sockets and kernel connection files gone
    time.sleep(1)
    assert _processes_mentioning(str(temp)) == []  # no kernel left running
    temp.rmdir()


def test_a_signal_during_the_swap_waits_until_it_is_done():
    import os
    import signal

    done = []
    with pytest.raises(KeyboardInterrupt, match="SIGTERM"):
        with interrupts.interrupts_raise():
            with interrupts.signals_held():
                os.kill(os.getpid(), signal.SIGTERM)
                done.append("swapped")  # still running: the signal is held back
    assert done == ["swapped"]


def test_a_warning_reaches_the_output_without_the_path_of_its_file(tmp_path):
    # a library or src/ warning would print its file's absolute path, which the privacy check refuses
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    module = tmp_path / "lib_with_a_long_path" / "noisy.py"
    module.parent.mkdir()
    module.write_text("import warnings\ndef shout():\n    warnings.warn('no artists with labels')\n")
    write_notebook(notebooks, "01_warns", f"import sys\nsys.path.insert(0, {str(module.parent)!r})\n"
                                          "import noisy\nnoisy.shout()")
    out = runner.run_pipeline(make_data(tmp_path / "data"), tmp_path / "out", notebooks_dir=notebooks,
                              log=lambda line: None)
    text = (out / "notebooks" / "01_warns.ipynb").read_text()
    assert "UserWarning: no artists with labels (noisy.py:3)" in text
    assert str(module.parent) not in text.replace(repr(str(module.parent))[1:-1], "")  # only in the cell's own code


def test_a_long_notebook_can_ask_to_start_first_in_a_parallel_run(tmp_path, monkeypatch):
    # a notebook nothing waits for, marked {"haic": {"start_early": true}}, starts before the ones ahead of it
    # (else it would run last, alone on a core); results and progress lines keep numeric order
    def notebook(name, early=False):
        path = tmp_path / f"{name}.ipynb"
        metadata = {"haic": {"start_early": True}} if early else {}
        path.write_text(json.dumps({"cells": [], "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}))
        return path

    nbs = [notebook("01_a"), notebook("02_b"), notebook("08_scorecard"), notebook("09_c"), notebook("10_long", True)]
    assert schedule.start_order(nbs) == [nbs[4], *nbs[:4]]
    assert schedule.start_order(nbs[:3]) == nbs[:3]
    started = []
    monkeypatch.setattr(schedule, "_run_one", lambda nb, stage, parameters: started.append(nb.stem) or nb)
    lines = []
    assert schedule.execute_all(nbs, tmp_path, {}, log=lines.append, jobs=1) == nbs
    assert started == ["01_a", "02_b", "08_scorecard", "09_c", "10_long"]  # one at a time: numeric order
    started.clear()
    assert schedule.execute_all(nbs, tmp_path, {}, log=lines.append, jobs=2) == nbs
    assert started[0] == "10_long" and started.index("08_scorecard") > started.index("02_b")
    assert [line.split()[1] for line in lines[-5:]] == ["01_a", "02_b", "08_scorecard", "09_c", "10_long"]


def test_no_report_writes_the_notebooks_files_and_the_scorecard_only(tmp_path, monkeypatch):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    write_notebook(notebooks, "01_alpha", "print('alpha done')", title="Alpha notebook", report=ALPHA_REPORT)
    data = make_data(tmp_path / "data")
    monkeypatch.setitem(sys.modules, "src.validate", fake_validate_module())
    out = runner.run_pipeline(data, tmp_path / "out", notebooks_dir=notebooks, report=False, log=lambda line: None)
    assert (out / "scorecard.csv").is_file() and (out / "notebooks" / "01_alpha.ipynb").is_file()
    assert not (out / "report.html").exists() and not (out / "manuscript_tables.docx").exists()
    assert "--no-report" in cli.build_parser().format_help()


def test_lesson_runs_the_chapters_and_writes_lesson_html_only(tmp_path, monkeypatch):
    """--lesson: notebooks 01-07 only, OUT/lesson.html; no scorecard, report.html or Word file."""
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    write_notebook(notebooks, "01_alpha", "print('alpha done')", title="Alpha notebook", report=ALPHA_REPORT)
    write_notebook(notebooks, "07_beta", "print('beta done')", title="Beta notebook")
    write_notebook(notebooks, "08_scorecard", "raise RuntimeError('the scorecard is not a chapter')", title="Scorecard")
    write_notebook(notebooks, "10_gamma", "raise RuntimeError('the reconstruction is not a chapter')", title="Gamma")
    data = make_data(tmp_path / "data")
    monkeypatch.setitem(sys.modules, "src.validate", fake_validate_module())
    out = runner.run_pipeline(data, tmp_path / "lesson", notebooks_dir=notebooks, lesson=True, log=lambda line: None)
    assert sorted(p.name for p in (out / "notebooks").iterdir()) == ["01_alpha.ipynb", "07_beta.ipynb"]
    assert (out / LESSON_NAME).is_file()
    assert not any((out / name).exists() for name in ("report.html", "scorecard.csv", "manuscript_tables.docx"))
    page = (out / LESSON_NAME).read_text(encoding="utf-8")
    assert "Alpha notebook" in page and "Beta notebook" in page and "Scorecard" not in page
    assert "--lesson" in cli.build_parser().format_help()


def test_lesson_refuses_the_projects_outputs_before_any_work(capsys):
    """The project's outputs/ holds the full run: a lesson run there would replace it with seven notebooks."""
    before = sorted(p.name for p in params.DEFAULT_OUT_DIR.iterdir()) if params.DEFAULT_OUT_DIR.exists() else None
    assert runner.main(["--lesson"]) == 2
    assert "lesson" in capsys.readouterr().err
    after = sorted(p.name for p in params.DEFAULT_OUT_DIR.iterdir()) if params.DEFAULT_OUT_DIR.exists() else None
    assert before == after


def test_lesson_without_a_chapter_is_refused(tmp_path, monkeypatch):
    notebooks = tmp_path / "nbs"
    notebooks.mkdir()
    write_notebook(notebooks, "09_audit", "print('audit')", title="Audit")
    data = make_data(tmp_path / "data")
    monkeypatch.setitem(sys.modules, "src.validate", fake_validate_module())
    with pytest.raises(runner.NoNotebooksError):
        runner.run_pipeline(data, tmp_path / "lesson", notebooks_dir=notebooks, lesson=True, log=lambda line: None)
    assert not (tmp_path / "lesson").exists()


def _busy_processes(count: int):
    """*count* processes that keep a core busy each (the load of a full test suite beside the run)."""
    import subprocess

    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


@pytest.mark.parametrize("moment, signame", [("start", "SIGTERM"), ("kernel start", "SIGINT"),
                                             ("kernel start", "SIGHUP"), ("notebook", "SIGINT")])
def test_an_interrupt_at_any_moment_under_load_is_honoured(tmp_path, moment, signame):
    """Right after the process starts, while the stage folder is set up and the kernel starts, and while
    a notebook runs, with every core busy: the run stops at once (long before the notebook's 60 s), OUT is
    left as it was, no temporary folder or kernel is left. Right after the start the signal may come while
    Python imports the runner, before any of its code runs: the process then ends by the signal itself."""
    import os
    import signal
    import subprocess
    import time

    started, out, before, temp, script = slow_interrupted_run(tmp_path)
    load = _busy_processes(os.cpu_count() or 2)
    try:
        proc = subprocess.Popen([sys.executable, "-c", script], cwd=runner.ROOT, env={**os.environ, "TMPDIR": str(temp)},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        reached = {"start": lambda: True, "kernel start": lambda: any(temp.iterdir()) and not started.exists(),
                   "notebook": started.exists}[moment]
        deadline = time.monotonic() + 60
        while not reached() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.01)
        assert reached(), f"{moment} never came: {proc.poll()}"
        sent = time.monotonic()
        proc.send_signal(getattr(signal, signame))
        stdout, stderr = proc.communicate(timeout=45)
        waited = time.monotonic() - sent
    finally:
        for busy in load:
            busy.kill()
            busy.wait()
    number = getattr(signal, signame)
    assert proc.returncode == 130 or (moment == "start" and proc.returncode == -number), (proc.returncode, stderr)
    if proc.returncode == 130:
        assert f"interrupted ({signame})" in stderr and "Traceback" not in stderr, stderr
    assert waited < 30, f"the run went on for {waited:.0f} s after {signame}: {stdout}"
    assert " ok (" not in stdout  # the slow notebook did not run to its end
    assert snapshot(out) == before
    assert leftovers(out) == []
    assert list(temp.iterdir()) == []
    time.sleep(1)
    assert _processes_mentioning(str(temp)) == []
    temp.rmdir()


def test_stopping_after_an_interrupt_inside_thread_start_does_not_join_an_unstarted_thread(tmp_path, monkeypatch):
    # an interrupt inside pool.submit can leave a pool-named thread that was never started (Thread.start was
    # interrupted): joining it raised "cannot join thread before it is started" and the run ended with exit 1
    import concurrent.futures as cf
    import threading

    from src.runner import schedule

    pool = cf.ThreadPoolExecutor(max_workers=1, thread_name_prefix="notebook-test")
    unstarted = threading.Thread(target=lambda: None, name="notebook-test_0")  # never started
    monkeypatch.setattr(schedule.threading, "enumerate", lambda: [unstarted])
    (tmp_path / "k").mkdir()
    schedule._stop_notebooks(tmp_path, pool)  # returns, does not raise
    assert not unstarted.is_alive()
