"""`python -m src.validate`: see the package docstring and `cli.py`."""
import sys

from src.validate.cli import main

sys.exit(main())
