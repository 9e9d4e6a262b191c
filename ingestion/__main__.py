"""`python -m ingestion …`: see `ingestion.cli`."""

import sys

from ingestion.cli import main

if __name__ == "__main__":  # guarded: intake workers are spawned processes that import __main__
    sys.exit(main())
