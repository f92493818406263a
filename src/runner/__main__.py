"""`python -m src.runner`: see the package docstring and src/runner/cli.py."""
import sys

from src.runner.cli import main

sys.exit(main())
