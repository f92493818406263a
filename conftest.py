"""pytest set-up shared by the unit tests and nbval.

nbval executes the notebooks with their default parameters; OUTPUT_DIR=None
resolves to $HAIC_OUTPUT_DIR when it is set (see `helpers.resolve_paths`).
Pointing it at a temporary folder here keeps `make test` from rewriting the
committed results in `outputs/`.
"""
import os
import tempfile

os.environ.setdefault("HAIC_OUTPUT_DIR", tempfile.mkdtemp(prefix="haic-test-outputs-"))
