# Two commands a reader needs: `make run` (regenerate every table and figure) and `make test`.
# Both create the virtual environment .venv on first use.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DATA   ?= data
OUT    ?= outputs
SEED   ?= 20130101
MIN_CELL ?= 0
ACCEPT_WARNINGS ?=
ONLY   ?=
# The recipes read these from the environment ("$$DATA"), so a path with spaces, quotes or
# accents (DATA="my data/été") reaches the runner as one argument, unchanged.
export DATA OUT SEED MIN_CELL ACCEPT_WARNINGS ONLY
# Reconstruction from a targets file, ensembles, validation against known truths (src/synthetic/publish.py, src/synthetic/ensemble.py)
TARGETS ?=
K      ?=
JOBS   ?= -1
DASK   ?=
M      ?= 30
export TARGETS K JOBS DASK M

.PHONY: run test lab data example check clean publish ensemble validate-reconstruction lesson

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

## run: execute notebooks 01..NN with papermill into $(OUT)/ (scorecard, report, tables, figures);
##      DATA=folder OUT=folder for your own cohort (private mode), MIN_CELL=5 to suppress small counts,
##      ACCEPT_WARNINGS=1 to go on despite plausibility warnings, ONLY=03 (or ONLY=01_,03_) to run some notebooks.
##      OUT is replaced only if it is new, empty or an earlier run's (python -m src.runner --help).
##      On failure make says "Error N" with the runner's exit code N (and exits 2 itself).
run: $(STAMP)
	$(PY) -m src.runner --data "$$DATA" --out "$$OUT" --min-cell "$$MIN_CELL" \
		$${ACCEPT_WARNINGS:+--accept-warnings} $${ONLY:+--only "$$ONLY"}

## lesson: the lesson edition for a class into lesson/ (OUT=folder for another; never outputs/, which holds the
##         full run): the chapters (notebooks 01-07) with their exercises in lesson.html, without the scorecard, the
##         audit, the reconstruction notebook and the paper-vs-this-run appendix; DATA, MIN_CELL, ACCEPT_WARNINGS as for run
lesson: $(STAMP)
	@out="$$OUT"; [ "$$out" = outputs ] && out=lesson; \
	$(PY) -m src.runner --lesson --data "$$DATA" --out "$$out" --min-cell "$$MIN_CELL" \
		$${ACCEPT_WARNINGS:+--accept-warnings}

## test: unit tests, then every notebook executed by nbval
test: $(STAMP)
	$(PY) -m pytest

## check: validate a data folder against data/data_dictionary.csv, print every problem
check: $(STAMP)
	$(PY) -m src.validate "$$DATA" $${ACCEPT_WARNINGS:+--accept-warnings}

## data: rebuild the synthetic cohort in data/ from the seed (deterministic);
##       TARGETS=file OUT=folder [SEED=n]: reconstruct a cohort from any targets file into OUT
data: $(STAMP)
	@if [ -n "$$TARGETS" ] && [ "$$OUT" = outputs ]; then echo "make data TARGETS=... needs OUT=folder"; exit 2; fi
	$(PY) -m src.synthetic.reconstruct --seed "$$SEED" --out data $${TARGETS:+--published "$$TARGETS" --out "$$OUT"}

## publish: print a cohort's "paper": every published id computed by the notebooks on DATA, into TARGETS
publish: $(STAMP)
	@if [ -z "$$TARGETS" ]; then echo "make publish DATA=folder TARGETS=file"; exit 2; fi
	$(PY) -m src.synthetic.publish --data "$$DATA" --targets "$$TARGETS"

## ensemble: K (default 20) cohorts from the bundled targets with K seeds into data/ensemble/ (JOBS local processes,
##           DASK=host:port to use a running Dask cluster instead)
ensemble: $(STAMP)
	$(PY) -m src.synthetic.ensemble build $${K:+--k "$$K"} --jobs "$$JOBS" $${DASK:+--dask "$$DASK"}

## validate-reconstruction: M (default 30) true cohorts, each published and reconstructed K (default 10) times;
##           writes data/ensemble/reconstruction_validation.csv (long: see README; make run shows it in outputs/)
validate-reconstruction: $(STAMP)
	$(PY) -m src.synthetic.truth --m "$$M" $${K:+--k "$$K"} --jobs "$$JOBS" $${DASK:+--dask "$$DASK"}

## example: rebuild the second synthetic cohort in data/examples/cohort250 (250 patients, another shape)
example: $(STAMP)
	$(PY) -m src.synthetic.example_cohort --seed 2026 --out data/examples/cohort250

## lab: open JupyterLab on the notebooks
lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks/

## clean: remove the virtual environment and caches (committed outputs stay)
clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/__pycache__ src/*/__pycache__ tests/__pycache__

.PHONY: check-report bench
REPORT ?= $(OUT)/report.html
export REPORT

## check-report: open $(OUT)/report.html in headless Chromium (Debian's chromium + chromium-driver) and check
##      that every contents link lands, no link points to a missing file, no console error, every image loads,
##      and that its print (A4: 718 px wide, every <details> open) cuts no table, img or svg at the page edge
##      and shows no code stub or prompt (then the self-test: each of those faults, put into a broken page, is caught)
check-report: $(STAMP)
	$(PY) tests/browser_check.py "$$REPORT"
	$(PY) tests/browser_check.py --self-test

## bench: time `make run` (into a temporary OUT) beside the floor (as many kernels started, the same imports,
##      one after another) and print their ratio
bench: $(STAMP)
	$(PY) -m src.runner.bench --data "$$DATA"
# make run executes independent notebooks side by side, as many as there are cores (src/runner/schedule.py, HAIC_JOBS)
run: export HAIC_JOBS ?= auto
