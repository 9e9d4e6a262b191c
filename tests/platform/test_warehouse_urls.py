"""One owner builds database URLs (`warehouse.url_from_params`): libpq must read back what it wrote.

Checked with libpq's own parser (`psycopg.conninfo.conninfo_to_dict`, no connection), so a
unix-socket directory, a password with `@ : / %` or spaces, and extra parameters survive
the way the server will see them; the Airflow and SQLAlchemy forms are built by the same rules.
"""

from __future__ import annotations

import pytest
from psycopg.conninfo import conninfo_to_dict

from ingestion.platform.airflow_env import connection_json, sqlalchemy_url
from ingestion.platform.warehouse import libpq_params, url_from_params, with_database

CASES = [
    {"host": "/tmp/pgserver sock", "port": "5432", "user": "postgres", "password": "", "dbname": "pctn"},
    {"host": "warehouse", "port": "5432", "user": "pctn", "password": "p@ss:w/rd %20+x", "dbname": "pctn"},
    {"host": "127.0.0.1", "port": "55433", "user": "pctn bi", "password": "a b", "dbname": "pctn-test"},
]


@pytest.mark.parametrize("parts", CASES, ids=["socket", "tcp-odd-password", "tcp-spaces"])
def test_libpq_reads_back_what_url_from_params_wrote(parts: dict[str, str]) -> None:
    url = url_from_params(**parts)
    seen = conninfo_to_dict(url)
    assert seen["host"] == parts["host"] and str(seen["port"]) == parts["port"] and seen["dbname"] == parts["dbname"]
    assert seen["user"] == parts["user"] and seen.get("password", "") == parts["password"]
    assert libpq_params(url) == parts
    assert libpq_params(with_database(url, "other"))["dbname"] == "other"


def test_a_socket_host_goes_in_the_query_and_options_are_kept() -> None:
    url = url_from_params(host="/run/postgresql", port=5433, user="postgres", dbname="pctn")
    assert url == "postgresql://postgres@/pctn?host=/run/postgresql&port=5433"
    url = url_from_params(host="db", user="u", dbname="d", options={"sslmode": "require"})
    assert url == "postgresql://u@db/d?sslmode=require" and conninfo_to_dict(url)["sslmode"] == "require"


def test_sqlalchemy_and_airflow_forms_agree_with_the_libpq_url() -> None:
    socket = "postgresql://postgres@/pctn_airflow?host=/tmp/pg&port=5432"
    assert sqlalchemy_url(socket) == "postgresql+psycopg2://postgres@/pctn_airflow?host=/tmp/pg&port=5432"
    tcp = url_from_params(host="warehouse", port=5432, user="pctn", password="p@ss", dbname="pctn")
    assert sqlalchemy_url(tcp) == "postgresql+psycopg2://pctn:p%40ss@warehouse:5432/pctn"
    assert '"password": "p@ss"' in connection_json(tcp) and '"host": "warehouse"' in connection_json(tcp)
