"""``python -m planner`` / the ``planner`` console script."""
import sys

from planner.cli import main

if __name__ == "__main__":
    sys.exit(main())
