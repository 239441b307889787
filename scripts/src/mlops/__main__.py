"""Run the toolkit as ``python -m mlops``."""

import sys

from mlops.cli import main

sys.exit(main())
