"""BI access: what a tool logged in as a member of `bi_reader` can and cannot do, on the real sample.

The bundled sample goes through the intake and `dbt build` (`sample_warehouse`),
`ensure_roles` applies the roles, and a throw-away LOGIN user in `bi_reader`
connects the two ways BI tools do: libpq (`psql`) and SQLAlchemy. The queries it
runs are the examples of the README's BI section, read from the file, so the README cannot
promise a query that does not work. Every refusal is checked to be a privilege
error (SQLSTATE 42501), not a missing table or a read-only session, so the tests
prove the grants and nothing else.

The clear-name test searches every text, JSON and array column of every table and
view in the database for the sample's person names (case, NFC/NFD and diacritics
folded), and shows where names in clear still live as bytes (the originals), which
must be out of every reader's reach.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import unicodedata
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Protocol

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import sql

from ingestion.intake.readers.encodings import EncodingError, decode_bytes
from ingestion.platform import roles
from ingestion.platform.warehouse import libpq_params
from tests.clear_names import TEXT_COLUMNS_SQL, scan_tables
from tests.clear_names import fold as _fold
from tests.clear_names import name_pattern as _name_pattern

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
BI_DOC = REPO / "README.md"  # its "Connect your BI tool" section
EXPECTED = REPO / "samples" / "expected.json"
INSUFFICIENT_PRIVILEGE = "42501"


# --- clients ------------------------------------------------------------------------------


class Denied(Exception):
    """The server refused for lack of privilege (SQLSTATE 42501)."""


class Client(Protocol):
    name: str

    def query(self, statement: str) -> list[tuple[object, ...]]: ...


@dataclass(frozen=True)
class Login:
    """A LOGIN user and where its database is (host may be a unix-socket directory)."""

    url: str
    user: str
    password: str

    @property
    def params(self) -> dict[str, str]:
        p = libpq_params(self.url)
        return {"host": p["host"], "port": p["port"], "dbname": p["dbname"], "user": self.user}


def _psql_binary() -> str:
    """`psql` from PATH, else the one bundled with the embedded server (a fresh machine has no client)."""
    found = shutil.which("psql")
    if found:
        return found
    from pgserver._commands import POSTGRES_BIN_PATH

    return str(Path(POSTGRES_BIN_PATH) / "psql")


@dataclass
class PsqlClient:
    """`psql` as a BI tool's libpq connection: password in PGPASSWORD, writes rolled back if they pass."""

    login: Login
    name: str = "psql"

    def query(self, statement: str) -> list[tuple[object, ...]]:
        p = self.login.params
        env = os.environ | {
            "PGHOST": p["host"],
            "PGPORT": p["port"],
            "PGDATABASE": p["dbname"],
            "PGUSER": p["user"],
            "PGPASSWORD": self.login.password,
            "PGCONNECT_TIMEOUT": "10",
            "PGAPPNAME": "pctn-bi-test",
        }
        cmd = [_psql_binary(), "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1"]
        cmd += ["-c", "begin", "-c", statement, "-c", "rollback"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            if "permission denied" in done.stderr or "must be owner" in done.stderr:
                raise Denied(done.stderr.strip())
            raise RuntimeError(f"psql failed ({done.returncode}): {done.stderr.strip()}")
        return [tuple(line.split("\t")) for line in done.stdout.splitlines() if line]


@dataclass
class SqlAlchemyClient:
    """SQLAlchemy 2 with psycopg, as Superset and notebooks connect; every transaction rolled back."""

    login: Login
    name: str = "sqlalchemy"

    def engine(self) -> sa.Engine:
        p = self.login.params
        url = sa.URL.create(
            "postgresql+psycopg",
            username=p["user"],
            password=self.login.password,
            database=p["dbname"],
            query={"host": p["host"], "port": p["port"]},
        )
        return sa.create_engine(url, poolclass=sa.NullPool)

    def query(self, statement: str) -> list[tuple[object, ...]]:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                try:
                    result = conn.execute(sa.text(statement))
                    return [tuple(r) for r in result.fetchall()] if result.returns_rows else []
                finally:
                    conn.rollback()
        except sa.exc.DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
                raise Denied(str(exc.orig)) from exc
            raise
        finally:
            engine.dispose()


# --- fixtures -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse(sample_warehouse) -> str:
    """The sample warehouse with the project's roles applied (dbt ran before: existing marts get grants)."""
    roles.ensure_roles(sample_warehouse.url, passwords={})
    return sample_warehouse.url


def _drop_login(url: str, user: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select pg_terminate_backend(pid) from pg_stat_activity where usename = %s", (user,))
        conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(user)))


def _login_in(url: str, group: str) -> Iterator[Login]:
    """A throw-away LOGIN user in `group` with a random password (roles are server-wide: drop it after)."""
    user = f"pctn_test_{group}_{uuid.uuid4().hex[:8]}"
    password = secrets.token_urlsafe(24)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create role {} login password {} in role {}").format(
                sql.Identifier(user), sql.Literal(password), sql.Identifier(group)
            )
        )
    try:
        yield Login(url, user, password)
    finally:
        _drop_login(url, user)


@pytest.fixture(scope="module")
def bi_login(warehouse: str) -> Iterator[Login]:
    yield from _login_in(warehouse, roles.BI_READER)


@pytest.fixture(scope="module")
def inspectorate_login(warehouse: str) -> Iterator[Login]:
    yield from _login_in(warehouse, roles.INSPECTORATE)


@pytest.fixture(params=["psql", "sqlalchemy"])
def bi(request: pytest.FixtureRequest, bi_login: Login) -> Client:
    return PsqlClient(bi_login) if request.param == "psql" else SqlAlchemyClient(bi_login)


@pytest.fixture(params=["psql", "sqlalchemy"])
def inspector(request: pytest.FixtureRequest, inspectorate_login: Login) -> Client:
    return PsqlClient(inspectorate_login) if request.param == "psql" else SqlAlchemyClient(inspectorate_login)


def _assert_exists(url: str, table: str) -> None:
    """A refusal only proves something if the object is there for its owner."""
    with psycopg.connect(url) as conn:
        assert conn.execute("select to_regclass(%s)", (table,)).fetchone()[0], f"{table} does not exist"


# --- the README's example queries ---------------------------------------------------------


def example_queries() -> list[tuple[str, str]]:
    """The ```sql blocks of the README that start with `-- example: <title>`."""
    blocks = re.findall(r"```sql\n(.*?)```", BI_DOC.read_text(encoding="utf-8"), flags=re.S)
    found = []
    for block in blocks:
        first, _, _ = block.partition("\n")
        if first.startswith("-- example:"):
            found.append((first.removeprefix("-- example:").strip(), block.strip()))
    return found


def test_docs_have_the_example_queries_the_issue_asks_for():
    titles = [t for t, _ in example_queries()]
    assert any("headline" in t for t in titles), titles
    assert any("restated" in t for t in titles), titles


@pytest.mark.parametrize(("title", "query"), example_queries(), ids=[t for t, _ in example_queries()])
def test_example_queries_return_rows_as_bi_reader(bi: Client, title: str, query: str):
    rows = bi.query(query)
    assert rows, f"{title}: no rows on the sample ({bi.name})"


def test_headline_example_has_names_in_both_languages(warehouse: str, bi: Client):
    """One row per headline indicator of the mart (it used to list every indicator of every province)."""
    query = next(q for t, q in example_queries() if "headline" in t)
    rows = bi.query(query)
    assert all(any(isinstance(c, str) and c for c in row) for row in rows)
    with psycopg.connect(warehouse) as conn:
        headlines = [
            code
            for (code,) in conn.execute(
                "select indicator_code from marts.dim_indicators where is_headline order by display_order"
            )
        ]
    assert 5 <= len(headlines) < 32
    assert [r[0] for r in rows] == headlines, rows


def test_restated_example_follows_old_units_into_todays_unit(warehouse: str, bi: Client):
    """The restated series of a regional unit has years before 1/7/2025, reported by its district predecessors."""
    query = next(q for t, q in example_queries() if "restated" in t)
    rows = bi.query(query)
    years = {int(str(r[0])[:4]) for r in rows}
    assert min(years) < 2025, rows


# --- what a BI tool sees of the marts -----------------------------------------------------


def test_bi_reader_sees_every_mart_and_column_described_in_both_languages(bi_login: Login):
    """BI tools show PostgreSQL comments (dbt persist_docs): each is `Vietnamese / English`."""
    rows = SqlAlchemyClient(bi_login).query(
        """
        select c.table_name, c.column_name,
               obj_description(format('%I.%I', c.table_schema, c.table_name)::regclass, 'pg_class'),
               col_description(format('%I.%I', c.table_schema, c.table_name)::regclass, c.ordinal_position)
        from information_schema.columns as c
        where c.table_schema = 'marts'
        """
    )
    tables = {r[0] for r in rows}
    assert {"fct_indicator_values", "fct_yearly_evaluation", "dim_indicators", "dim_reporting_units"} <= tables
    undescribed = [f"{t}.{c}" for t, c, table_doc, col_doc in rows if " / " not in (col_doc or "")]
    undescribed += sorted({t for t, _, table_doc, _ in rows if " / " not in (table_doc or "")})
    assert not undescribed, f"without a bilingual description: {undescribed}"


# The usual filters of a BI query (period, unit, indicator) lead an index of each fact table.
FILTER_INDEXES = {
    "fct_indicator_values": {"period_code", "unit_code", "indicator_code"},
    "fct_yearly_evaluation": {"report_year", "indicator_code"},
    "fct_return_submissions": {"period_code", "unit_code"},
    "fct_quarantine_summary": {"period_code", "unit_code"},
}


def test_fact_tables_have_indexes_led_by_the_usual_filters(warehouse: str):
    with psycopg.connect(warehouse) as conn:
        leading = conn.execute(
            """
            select t.relname, a.attname
            from pg_index as i
            join pg_class as t on t.oid = i.indrelid
            join pg_namespace as n on n.oid = t.relnamespace
            join pg_attribute as a on a.attrelid = t.oid and a.attnum = i.indkey[0]
            where n.nspname = 'marts'
            """
        ).fetchall()
    have: dict[str, set[str]] = {}
    for table, column in leading:
        have.setdefault(table, set()).add(column)
    missing = {t: sorted(cols - have.get(t, set())) for t, cols in FILTER_INDEXES.items() if cols - have.get(t, set())}
    assert not missing, f"no index led by: {missing}"


# --- what bi_reader must not reach --------------------------------------------------------

BI_UNREADABLE = [
    "raw.dieutra_cases",
    "raw.thanhtra_inspections",
    "audit.quarantine",
    "audit.validation_results",
    "audit.feedback_files",
    "registry.files",
    "registry.file_contents",
    "staging.stg_dieutra__cases",
    "intermediate.int_case_records_linked",
    "reference.indicators",
    "delivery.deliveries",
    "delivery.extract_files",
]


@pytest.mark.parametrize("table", BI_UNREADABLE)
def test_bi_reader_cannot_read_outside_the_marts(warehouse: str, bi: Client, table: str):
    _assert_exists(warehouse, table)
    with pytest.raises(Denied):
        bi.query(f"select * from {table} limit 1")


WRITES = [
    "insert into marts.dim_offences select * from marts.dim_offences limit 1",
    "update marts.fct_indicator_values set value = 0",
    "delete from marts.fct_yearly_evaluation",
    "truncate marts.dim_indicators",
    "alter table marts.dim_offences add column probe integer",
    "drop table marts.fct_phase_totals",
    "comment on table marts.dim_offences is 'probe'",
    "create index on marts.fct_indicator_values (value)",
    "create table marts.probe (i integer)",
    "create view marts.probe as select 1 as i",
    "create table public.probe (i integer)",
    "create temporary table probe (i integer)",
    "create schema probe",
    "insert into raw.dieutra_cases (file_id, row_number) values (-1, -1)",
    "delete from audit.quarantine",
    "update registry.files set status = 'rejected'",
    "insert into delivery.deliveries (extract_id) values (-1)",
    "create table staging.probe (i integer)",
]


@pytest.mark.parametrize("statement", WRITES)
def test_bi_reader_cannot_write_anywhere(bi: Client, statement: str):
    with pytest.raises(Denied):
        bi.query(statement)


# --- the inspectorate ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [
        "marts.fct_indicator_values",
        "marts.fct_return_submissions",
        "marts.fct_quarantine_summary",
        "delivery.deliveries",
        "delivery.extracts",
    ],
)
def test_inspectorate_reads_marts_data_quality_and_delivery_log(inspector: Client, table: str):
    inspector.query(f"select * from {table} limit 1")


@pytest.mark.parametrize(
    "statement",
    [
        "select * from raw.xetxu_cases limit 1",
        "select * from audit.quarantine limit 1",
        "select * from registry.files limit 1",
        "select * from delivery.extract_files limit 1",
        "insert into delivery.deliveries (extract_id) values (-1)",
        "update marts.fct_return_submissions set status = 'on_time'",
    ],
)
def test_inspectorate_cannot_reach_rows_or_write(inspector: Client, statement: str):
    with pytest.raises(Denied):
        inspector.query(statement)


# --- default privileges, login users, idempotence -----------------------------------------


def test_a_mart_rebuilt_by_dbt_after_the_grants_is_readable(warehouse: str, bi_login: Login, tmp_path: Path):
    """dbt replaces a table with a new object; default privileges, not a manual grant, make it readable."""
    from ingestion.platform.transform import run_dbt

    with psycopg.connect(warehouse) as conn:
        before = conn.execute("select 'marts.dim_offences'::regclass::oid").fetchone()[0]
    run_dbt(warehouse, ["run", "--select", "dim_offences"], target_path=tmp_path / "target")
    with psycopg.connect(warehouse) as conn:
        after = conn.execute("select 'marts.dim_offences'::regclass::oid").fetchone()[0]
    assert after != before, "dbt did not create a new table: the test would not prove default privileges"
    assert SqlAlchemyClient(bi_login).query("select count(*) from marts.dim_offences")[0][0] > 0


def test_login_user_gets_a_scram_verifier_membership_and_read_only_sessions(warehouse: str):
    user = roles.LoginUser(f"pctn_test_login_{uuid.uuid4().hex[:8]}", roles.BI_READER, "UNUSED_ENV")
    password = secrets.token_urlsafe(24)
    try:
        with psycopg.connect(warehouse, autocommit=True) as conn:
            roles._ensure_login_user(conn, user, password)
            roles._ensure_login_user(conn, user, password)  # again: idempotent
            stored, config, member = conn.execute(
                "select a.rolpassword, r.rolconfig, pg_has_role(a.rolname, %s, 'USAGE') "
                "from pg_authid as a inner join pg_roles as r on a.oid = r.oid where a.rolname = %s",
                (roles.BI_READER, user.name),
            ).fetchone()
        assert stored.startswith(("SCRAM-SHA-256$", "md5")) and password not in stored
        assert "default_transaction_read_only=on" in (config or [])
        assert member
        client = PsqlClient(Login(warehouse, user.name, password))
        assert client.query("select count(*) from marts.dim_indicators")[0][0] != "0"
    finally:
        _drop_login(warehouse, user.name)


def _acl_snapshot(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            """
            select 'schema', nspname, null, nspacl::text from pg_namespace
            union all
            select 'relation', n.nspname, c.relname, c.relacl::text
            from pg_class as c join pg_namespace as n on n.oid = c.relnamespace
            where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
            union all
            select
                'default',
                pg_get_userbyid(defaclrole),
                defaclnamespace::regnamespace::text || ':' || defaclobjtype::text,
                defaclacl::text
            from pg_default_acl
            union all
            select 'database', datname, null, datacl::text from pg_database where datname = current_database()
            order by 1, 2, 3, 4
            """
        ).fetchall()


def test_ensure_roles_is_idempotent_and_survives_concurrent_runs(warehouse: str, fresh_warehouse_url: str):
    """Tests build several databases on one server at once; roles are server-wide, grants per database."""
    before = _acl_snapshot(warehouse)
    urls = [warehouse, fresh_warehouse_url, warehouse, fresh_warehouse_url]
    with ThreadPoolExecutor(len(urls)) as pool:
        list(pool.map(lambda u: roles.ensure_roles(u, passwords={}), urls))
    assert _acl_snapshot(warehouse) == before
    summary = roles.access_summary(fresh_warehouse_url)
    assert re.search(r"^bi_reader(\s+-){5}\s+use(\s+-){2}$", summary, flags=re.M), summary


def test_concurrent_creation_of_one_role_creates_it_once_without_error(warehouse: str):
    """Role names are server-wide: two test sessions may create `bi_reader` in the same instant."""
    name = f"pctn_test_race_{uuid.uuid4().hex[:8]}"

    def create() -> bool:
        with psycopg.connect(warehouse, autocommit=True) as conn:
            return roles._create_role(conn, name, "nologin")

    try:
        with ThreadPoolExecutor(8) as pool:
            created = list(pool.map(lambda _: create(), range(8)))
        assert created.count(True) == 1, created
    finally:
        _drop_login(warehouse, name)


def test_unknown_password_key_is_refused(warehouse: str):
    with pytest.raises(ValueError, match="no login user"):
        roles.ensure_roles(warehouse, passwords={"pctn_loader": "x"})


# --- no names in clear --------------------------------------------------------------------


def clear_names() -> list[str]:
    """The sample's person names, as written by the sample generator."""
    data = json.loads(EXPECTED.read_text(encoding="utf-8"))
    for key in ("person_names", "names", "clear_names"):
        if key in data:
            return list(data[key])
    raise AssertionError(f"{EXPECTED} has no list of person names (keys: {sorted(data)})")


BYTES_COLUMNS_SQL = TEXT_COLUMNS_SQL.replace(
    """'text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'json'::regtype, 'jsonb'::regtype,
      'text[]'::regtype, 'varchar[]'::regtype, 'jsonb[]'::regtype, 'xml'::regtype""",
    "'bytea'::regtype",
)


def test_fold_meets_every_spelling_of_a_name():
    pattern = _name_pattern(["Nguyễn Văn Đức"])
    for spelling in (
        "Nguyễn Văn Đức",
        unicodedata.normalize("NFD", "Nguyễn Văn Đức"),
        "NGUYEN VAN DUC",
        "x nguyễn  văn đức y",
    ):
        assert pattern.search(_fold(spelling)), spelling


def test_no_table_or_view_holds_a_clear_name(sample_warehouse):
    names = clear_names()
    assert len(names) >= 10, "the sample has too few names for this test to mean anything"
    pattern = _name_pattern(names)
    with psycopg.connect(sample_warehouse.url) as conn:
        scan = scan_tables(conn, pattern)
        hits = scan.hits
        assert ("raw", "dieutra_cases") in scan.tables and ("marts", "fct_cases") in scan.tables
        columns = conn.execute(TEXT_COLUMNS_SQL).fetchall()
        pseudonym_columns = [(s, t, c) for s, t, c in columns if s == "raw" and c.endswith("_pseudonyms")]
        pseudonyms = sum(
            conn.execute(
                sql.SQL("select count(*) from {} where cardinality({}) > 0").format(
                    sql.Identifier(s, t), sql.Identifier(c)
                )
            ).fetchone()[0]
            for s, t, c in pseudonym_columns
        )
    assert not hits, "names in clear:\n" + "\n".join(hits[:50])
    assert pseudonyms > 0, "no pseudonyms loaded: the sample's names never reached the warehouse"


def _texts_of(content: bytes) -> Iterator[str]:
    """The text an original file would show: every part of an XLSX, else the CSV as the intake decodes it."""
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(BytesIO(content)) as archive:
                parts = [archive.read(member) for member in archive.namelist()]
        except (zipfile.BadZipFile, OSError, EOFError):  # the sample's damaged workbooks
            parts = [content]
        for part in parts:
            yield part.decode("utf-8", errors="ignore")
        return
    try:
        yield decode_bytes(content).text
    except EncodingError:
        yield content.decode("utf-8", errors="ignore")


def test_no_bytes_column_holds_a_name_in_clear(sample_warehouse, warehouse: str):
    """Originals (sealed) and feedback workbooks are bytes: opened part by part, none shows a name in clear.

    The originals hold names, so this fails if sealing is ever dropped; the scan
    asserts it opened the originals and the feedback workbooks, so it cannot pass by
    reading nothing.
    """
    pattern = _name_pattern(clear_names())
    holders: set[str] = set()
    scanned: dict[str, int] = {}
    with psycopg.connect(warehouse) as conn:
        for schema, table, column in conn.execute(BYTES_COLUMNS_SQL).fetchall():
            col = sql.Identifier(column)
            cur = conn.execute(
                sql.SQL("select {} from {} where {} is not null").format(col, sql.Identifier(schema, table), col)
            )
            for (content,) in cur:
                scanned[f"{schema}.{table}"] = scanned.get(f"{schema}.{table}", 0) + 1
                if any(pattern.search(_fold(t)) for t in _texts_of(bytes(content))):
                    holders.add(f"{schema}.{table}.{column}")
    assert scanned.get("registry.file_contents", 0) >= 100 and scanned.get("audit.feedback_files", 0) >= 100, scanned
    assert not holders, f"bytes holding names in clear: {holders}"
