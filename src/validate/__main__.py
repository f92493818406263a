"""`python -m src.validate`: see the package docstring."""
import sys

from src.validate import main

sys.exit(main())
