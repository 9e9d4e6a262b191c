"""`python -m ingestion …`: see `ingestion.cli`."""

import sys

from ingestion.cli import main

sys.exit(main())
