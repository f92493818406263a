"""`python -m src.runner`: see the package docstring."""
import sys

from src.runner import main

sys.exit(main())
