"""The compose stack creates the same roles as `make run`, with its BI users' passwords from `.env` secrets.

Static (no Docker engine here): `airflow-init` runs `python -m ingestion.platform.roles` against the
warehouse service, with `PCTN_BI_PASSWORD` and `PCTN_INSPECTORATE_PASSWORD` required from
`.env` (compose refuses to start without them) and listed in `docker/env.example`.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ingestion.platform.roles import LOGIN_USERS

REPO = Path(__file__).resolve().parents[2]


def test_init_creates_roles_and_login_users_from_required_secrets() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    init = compose["services"]["airflow-init"]
    assert "python -m ingestion.platform.roles" in " ".join(init["command"])
    env = init["environment"]
    assert env["WAREHOUSE_URL"].endswith("@warehouse:5432/pctn")
    example = (REPO / "docker" / "env.example").read_text(encoding="utf-8")
    for user in LOGIN_USERS:
        assert env[user.password_env] == f"${{{user.password_env}:?set {user.password_env} in .env}}"
        assert f"\n{user.password_env}=change-me" in example


def test_env_example_points_at_docs_that_exist() -> None:
    example = (REPO / "docker" / "env.example").read_text(encoding="utf-8")
    assert "docs/extract.md" not in example
    assert "Indicator extracts" in example and "## Indicator extracts" in (REPO / "README.md").read_text()
