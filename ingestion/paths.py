"""Where the checkout's parts are: the one owner of paths derived from the repository root.

The project runs from its checkout (`pip install -e .`): the dbt project, the GX suites and
the bundled sample returns are files beside the package, not package data. Every module
that needs one of them imports it from here instead of counting `.parent`s from its own
location, so moving a module never moves a path.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DBT_TARGET_DIR = DBT_PROJECT_DIR / "target"
SEEDS_DIR = DBT_PROJECT_DIR / "seeds"
EXPECTATIONS_DIR = REPO_ROOT / "expectations"
SAMPLE_INBOX = REPO_ROOT / "samples" / "returns"
DAGS_DIR = REPO_ROOT / "dags"
