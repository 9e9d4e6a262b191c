"""Warehouse roles: who may write, transform and read what, set by one idempotent command.

BI tools and analysts query the marts directly, so the database itself, not the
tools, has to keep them away from returns in their original form, quarantined
rows and the audit trail. `ensure_roles` declares that boundary and converges the
database to it every time it runs (`make run` calls `python -m ingestion.platform.roles`):

- `pctn_loader`, the Python pipeline: writes `registry`, `raw`, `audit` (intake) and
  `delivery` (extract); reads `marts` (the extract's input).
- `pctn_transformer`, dbt: reads `registry`, `raw`, `audit` (not the original bytes);
  creates and writes `staging`, `intermediate`, `marts`, `reference`.
- `bi_reader`: reads `marts`, nothing else.
- `inspectorate`: reads `marts` (the data-quality marts among them) and the delivery
  log (`delivery.extracts`, `delivery.deliveries`).

The four are NOLOGIN group roles; people and tools log in as users that are
members of one of them. Two such users are created when their password is given
(`PCTN_BI_PASSWORD` -> `pctn_bi`, `PCTN_INSPECTORATE_PASSWORD` -> `pctn_inspectorate`);
passwords are never in the code, and are hashed on the client (SCRAM-SHA-256 by
default, whatever the server's `password_encryption` asks for) so the clear text
does not reach the server's statement log.

Roles belong to the whole server while schemas and grants belong to one database,
and tests create many databases on one server, concurrently: role creation
tolerates a concurrent creator, and the grants are applied to the database of the
URL only. New marts are readable without manual grants through default privileges,
which PostgreSQL applies to objects created by a named role, so they are set for
the user running this command (dbt runs as the same user in the demo) and for
`pctn_transformer` (dbt in production, with `role: pctn_transformer` in its profile).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import psycopg
from psycopg import sql

from ingestion.settings import Settings, env_name, settings

log = logging.getLogger(__name__)

LOADER = "pctn_loader"
TRANSFORMER = "pctn_transformer"
BI_READER = "bi_reader"
INSPECTORATE = "inspectorate"
GROUP_ROLES = (LOADER, TRANSFORMER, BI_READER, INSPECTORATE)
READERS = (BI_READER, INSPECTORATE)

INTAKE_SCHEMAS = ("registry", "raw", "audit")
DBT_SCHEMAS = ("staging", "intermediate", "marts", "reference")
MARTS = "marts"
DELIVERY = "delivery"
PRIVATE_SCHEMAS = (*INTAKE_SCHEMAS, "staging", "intermediate", "reference", DELIVERY)

# The returns as received (names in clear) and the feedback sent back to the units:
# nothing downstream of the intake needs the bytes, so the transformer cannot read them.
ORIGINAL_BYTES_TABLES = (("registry", "file_contents"), ("audit", "feedback_files"))
# What the Inspectorate may see of the delivery schema: which extract was sent, when,
# to whom, with which checksums. Not the bytes (they are the marts, already readable).
INSPECTORATE_DELIVERY_TABLES = (("delivery", "extracts"), ("delivery", "deliveries"))

# Errors a concurrent run of this function (same or another database) can cause;
# the statements are idempotent, so running them again is the remedy.
_RETRY_SQLSTATES = frozenset({"23505", "42710", "XX000", "40001", "40P01"})
_ATTEMPTS = 5
_LOCK_KEY = "pctn.roles"


@dataclass(frozen=True)
class LoginUser:
    """A user that logs in, a member of one group role, with its password from the settings."""

    name: str
    group: str
    password_setting: str  # the `Settings` field

    @property
    def password_env(self) -> str:
        return env_name(self.password_setting)

    def password(self, current: Settings | None = None) -> str | None:
        return getattr(current or settings(), self.password_setting) or None


LOGIN_USERS = (
    LoginUser("pctn_bi", BI_READER, "bi_password"),
    LoginUser("pctn_inspectorate", INSPECTORATE, "inspectorate_password"),
)

T = TypeVar("T")


def _retrying(step: Callable[[], T]) -> T:
    """Run an idempotent step again when a concurrent run made it fail."""
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            return step()
        except psycopg.Error as exc:
            if exc.sqlstate not in _RETRY_SQLSTATES or attempt == _ATTEMPTS:
                raise
            log.info("roles: concurrent change (%s), retrying: %s", exc.sqlstate, exc)
            time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")


def _ids(names: Iterable[str]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(n) for n in names)


def _tables(names: Iterable[tuple[str, str]]) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(s, t) for s, t in names)


def _create_role(conn: psycopg.Connection, name: str, attributes: str) -> bool:
    """Create a role unless it exists; True if this call created it.

    Another session may create the same role between the check and the `create`
    (tests build several databases on one server at once): its duplicate is success.
    """
    if conn.execute("select 1 from pg_roles where rolname = %s", (name,)).fetchone():
        return False
    try:
        with conn.transaction():
            conn.execute(sql.SQL("create role {} " + attributes).format(sql.Identifier(name)))
    except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
        return False
    return True


def _ensure_login_user(conn: psycopg.Connection, user: LoginUser, password: str) -> None:
    """Create or update a LOGIN member of `user.group`; the password verifier is computed here, not on the server."""
    _create_role(conn, user.name, "login inherit")
    verifier = conn.pgconn.encrypt_password(password.encode(), user.name.encode()).decode()
    with conn.transaction():
        conn.execute(
            sql.SQL("alter role {} with login inherit password {}").format(
                sql.Identifier(user.name), sql.Literal(verifier)
            )
        )
        conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(user.group), sql.Identifier(user.name)))
        # A reader's session refuses writes even if a grant slips through; the user may
        # turn it off in a session, so this is a second fence, not the first.
        conn.execute(sql.SQL("alter role {} set default_transaction_read_only = on").format(sql.Identifier(user.name)))


# Per-database grants. Placeholders are identifiers (lists of them) filled in by
# `_database_statements`; every statement is idempotent.
DATABASE_GRANTS = """
-- nobody creates objects in `public`; a reader's temporary tables would be writes too
revoke create on schema public from public;
revoke temporary on database {database} from public;
grant connect on database {database} to {group_roles};
grant temporary on database {database} to {loader}, {transformer};

-- readers: first take away anything outside the marts (whatever was granted by hand) ...
revoke all on schema {private_schemas} from {readers};
revoke all on all tables in schema {private_schemas} from {readers};
revoke all on all sequences in schema {private_schemas} from {readers};
revoke create on schema {marts} from {readers};
revoke insert, update, delete, truncate, references, trigger on all tables in schema {marts} from {readers};
-- ... then give them the marts as they are now (future marts: default privileges below)
grant usage on schema {marts} to {readers};
grant select on all tables in schema {marts} to {readers};

-- loader: the intake's schemas and the extract's; it reads the marts to build extracts
grant usage, create on schema {loader_schemas} to {loader};
grant select, insert, update, delete on all tables in schema {loader_schemas} to {loader};
grant usage, select on all sequences in schema {loader_schemas} to {loader};
grant usage on schema {marts} to {loader};
grant select on all tables in schema {marts} to {loader};

-- transformer: reads what the intake loaded, creates and writes the dbt layers
grant usage on schema {intake_schemas} to {transformer};
grant select on all tables in schema {intake_schemas} to {transformer};
grant usage, create on schema {dbt_schemas} to {transformer};
grant all on all tables in schema {dbt_schemas} to {transformer};

-- inspectorate: also the delivery log (the tables are granted one by one below)
grant usage on schema {delivery} to {inspectorate};
"""

# Privileges on tables that `creator` will create: PostgreSQL keys default privileges by creator.
DEFAULT_PRIVILEGES = """
alter default privileges for role {creator} in schema {marts}
    grant select on tables to {readers}, {loader};
alter default privileges for role {creator} in schema {loader_schemas}
    grant select, insert, update, delete on tables to {loader};
alter default privileges for role {creator} in schema {loader_schemas}
    grant usage, select on sequences to {loader};
alter default privileges for role {creator} in schema {intake_schemas}
    grant select on tables to {transformer};
alter default privileges for role {creator} in schema {dbt_schemas}
    grant all on tables to {transformer};
"""


def _row(conn: psycopg.Connection, query: str, params: tuple[Any, ...] = ()) -> tuple[Any, ...]:
    """The one row of a `select` without `from`."""
    row = conn.execute(query, params).fetchone()
    assert row is not None, query
    return row


def _existing(conn: psycopg.Connection, tables: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(s, t) for s, t in tables if _row(conn, "select to_regclass(%s)", (f"{s}.{t}",))[0]]


def _database_statements(conn: psycopg.Connection, database: str, creators: list[str]) -> list[sql.Composed]:
    """The per-database grants, in the order they must run.

    `creators` are the roles whose future tables get default privileges: whoever
    creates tables in this database (this session's user; dbt's role).
    """
    names = {
        "database": sql.Identifier(database),
        "group_roles": _ids(GROUP_ROLES),
        "readers": _ids(READERS),
        "loader": sql.Identifier(LOADER),
        "transformer": sql.Identifier(TRANSFORMER),
        "inspectorate": sql.Identifier(INSPECTORATE),
        "private_schemas": _ids(PRIVATE_SCHEMAS),
        "marts": sql.Identifier(MARTS),
        "delivery": sql.Identifier(DELIVERY),
        "intake_schemas": _ids(INTAKE_SCHEMAS),
        "loader_schemas": _ids((*INTAKE_SCHEMAS, DELIVERY)),
        "dbt_schemas": _ids(DBT_SCHEMAS),
    }
    stmts: list[sql.Composed] = [sql.SQL(DATABASE_GRANTS).format(**names)]
    originals = _existing(conn, ORIGINAL_BYTES_TABLES)
    if originals:
        stmts.append(sql.SQL("revoke all on {} from {}").format(_tables(originals), _ids((TRANSFORMER, *READERS))))
    delivery_log = _existing(conn, INSPECTORATE_DELIVERY_TABLES)
    if delivery_log:
        stmts.append(sql.SQL("grant select on {} to {}").format(_tables(delivery_log), sql.Identifier(INSPECTORATE)))
    stmts += [sql.SQL(DEFAULT_PRIVILEGES).format(creator=sql.Identifier(c), **names) for c in creators]
    return stmts


def _default_privilege_creators(conn: psycopg.Connection, current_user: str, is_superuser: bool) -> list[str]:
    """This session's user and the transformer, when allowed to set defaults for it."""
    creators = [current_user]
    if current_user != TRANSFORMER:
        may = is_superuser or _row(conn, "select pg_has_role(current_user, %s, 'MEMBER')", (TRANSFORMER,))[0]
        if may:
            creators.append(TRANSFORMER)
        else:
            log.warning(
                "roles: %s may not set default privileges for %s; tables dbt creates as %s will need "
                "`python -m ingestion.platform.roles` again to be readable by BI",
                current_user,
                TRANSFORMER,
                TRANSFORMER,
            )
    return creators


def _ensure_schemas(conn: psycopg.Connection) -> None:
    """Every schema the grants name, so they apply before the intake, dbt or the extract first ran."""
    from ingestion.extract import store  # local import: the extract package pulls in openpyxl
    from ingestion.intake.schema import ensure_schema

    ensure_schema(conn)
    store.ensure_schema(conn)
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (_LOCK_KEY,))
        for schema in DBT_SCHEMAS:
            conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(schema)))


def _grant_database(conn: psycopg.Connection) -> None:
    """Apply the per-database grants in one transaction (all or nothing, serialised per database)."""
    database, current_user, is_superuser = _row(
        conn, "select current_database(), current_user, (select rolsuper from pg_roles where rolname = current_user)"
    )
    creators = _default_privilege_creators(conn, current_user, bool(is_superuser))
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (_LOCK_KEY,))
        for stmt in _database_statements(conn, database, creators):
            conn.execute(stmt)


def login_passwords(passwords: Mapping[str, str] | None = None) -> dict[str, str]:
    """Passwords of the login users by group role: the argument if given, else the environment.

    An empty or missing password means "no login user": the group roles alone are
    created and a DBA adds people with `create user … in role bi_reader`.
    """
    if passwords is not None:
        return {group: pw for group, pw in passwords.items() if pw}
    current = settings()
    return {u.group: pw for u in LOGIN_USERS if (pw := u.password(current))}


def ensure_roles(url: str, *, passwords: Mapping[str, str] | None = None) -> None:
    """Create the project's roles if missing and grant them exactly their schemas in the database of `url`.

    Safe to run again and concurrently (on the same or other databases of a server).
    `passwords` maps a group role (`bi_reader`, `inspectorate`) to the password of its
    login user (`pctn_bi`, `pctn_inspectorate`); `None` reads `PCTN_BI_PASSWORD` and
    `PCTN_INSPECTORATE_PASSWORD`. The user of `url` needs CREATEROLE (or superuser) and
    should be the database owner.
    """
    wanted = login_passwords(passwords)
    unknown = set(wanted) - {u.group for u in LOGIN_USERS}
    if unknown:
        raise ValueError(
            f"no login user is defined for {sorted(unknown)}; expected keys {[u.group for u in LOGIN_USERS]}"
        )
    with psycopg.connect(url, autocommit=True) as conn:
        for role in GROUP_ROLES:
            _retrying(partial(_create_role, conn, role, "nologin"))
        for user in LOGIN_USERS:
            if user.group in wanted:
                _retrying(partial(_ensure_login_user, conn, user, wanted[user.group]))
        _retrying(lambda: _ensure_schemas(conn))
        _retrying(lambda: _grant_database(conn))


ACCESS_SQL = """
select r.rolname, n.nspname,
       has_schema_privilege(r.rolname, n.nspname, 'USAGE') as can_use,
       has_schema_privilege(r.rolname, n.nspname, 'CREATE') as can_create
from pg_roles as r
cross join pg_namespace as n
where r.rolname = any(%s) and n.nspname = any(%s)
order by array_position(%s, r.rolname::text), array_position(%s, n.nspname::text)
"""


def access_summary(url: str) -> str:
    """Which role may use or create in which schema: what `python -m ingestion.platform.roles` prints."""
    schemas = [*INTAKE_SCHEMAS, *DBT_SCHEMAS, DELIVERY]
    roles = list(GROUP_ROLES)
    with psycopg.connect(url) as conn:
        rows = conn.execute(ACCESS_SQL, (roles, schemas, roles, schemas)).fetchall()
        logins = conn.execute(
            "select m.rolname, g.rolname from pg_auth_members a join pg_roles m on m.oid = a.member "
            "join pg_roles g on g.oid = a.roleid where g.rolname = any(%s) and m.rolcanlogin order by 2, 1",
            (roles,),
        ).fetchall()
    cell = {(r, s): ("create" if c else "use" if u else "-") for r, s, u, c in rows}
    width = max(len(r) for r in roles)
    lines = [" " * width + "  " + "  ".join(f"{s:>12}" for s in schemas)]
    lines += [f"{r:<{width}}  " + "  ".join(f"{cell.get((r, s), '-'):>12}" for s in schemas) for r in roles]
    lines.append("login users: " + (", ".join(f"{m} ({g})" for m, g in logins) or "none"))
    return "\n".join(lines)


DEMO_BI_PASSWORD_FILE = "bi_password"  # under PCTN_DATA_DIR, mode 0600


def _embedded() -> bool:
    return not settings().warehouse_url


def prepare_demo_bi_password(url: str) -> None:
    """On the embedded demo server, make `pctn_bi` a login with a generated password kept under .data/.

    Only when `PCTN_BI_PASSWORD` is not set and no `WAREHOUSE_URL` is given: a real
    server's users are a DBA's business. The password is generated once, so the URL
    `make run` prints stays the same from run to run.
    """
    bi = next(u for u in LOGIN_USERS if u.group == BI_READER)
    if bi.password() or not _embedded():
        return
    import secrets

    path = settings().data_dir / DEMO_BI_PASSWORD_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(18), encoding="utf-8")
        path.chmod(0o600)
    os.environ[bi.password_env] = path.read_text(encoding="utf-8").strip()  # as if set: later steps see it


def bi_tcp_url(url: str) -> str | None:
    """The URL a BI tool uses for `pctn_bi` over TCP, or None when there is none.

    Embedded server: 127.0.0.1 and its port, with the demo password (it is a local
    demo secret, printed so it can be pasted into DBeaver). A server of yours: its
    host and port, with the password left as `$PCTN_BI_PASSWORD`.
    """
    from ingestion.platform.warehouse import embedded_tcp_port, libpq_params, url_from_params

    params = libpq_params(url)
    user = next(u for u in LOGIN_USERS if u.group == BI_READER)
    password = user.password()
    if not password:
        return None
    if _embedded():
        port = embedded_tcp_port()
        if port is None:
            return None
        return url_from_params(host="127.0.0.1", port=port, user=user.name, password=password, dbname=params["dbname"])
    if params["host"].startswith("/"):
        return None
    return f"postgresql://{user.name}:${user.password_env}@{params['host']}:{params['port']}/{params['dbname']}"


def main(argv: list[str] | None = None) -> int:
    """`python -m ingestion.platform.roles`: converge the roles on the warehouse (`make run` calls it)."""
    from ingestion.platform import envhelp

    parser = envhelp.parser(
        "python -m ingestion.platform.roles",
        "Create the warehouse roles (bi_reader, inspectorate, pctn_transformer, pctn_loader) and grant them\n"
        "exactly their schemas; create/update the login users whose password is set. Idempotent.\n"
        "Tạo vai trò và phân quyền trên kho dữ liệu (chạy lại an toàn).",
        envhelp.ROLES,
    )
    parser.add_argument(
        "--demo-bi-password",
        action="store_true",
        help="on the embedded server, give pctn_bi a generated password kept in .data/bi_password (make run does)",
    )
    args = parser.parse_args(argv)
    from ingestion.platform.warehouse import WarehouseUnreachable, check_reachable, warehouse_url

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        url = warehouse_url()
        check_reachable(url)
    except WarehouseUnreachable as exc:
        print(f"lỗi / error: {exc}", file=sys.stderr)
        return 2
    if args.demo_bi_password:
        prepare_demo_bi_password(url)
    ensure_roles(url)
    print("Warehouse roles (schema usage):")
    print(access_summary(url))
    missing = [u for u in LOGIN_USERS if not u.password()]
    for u in missing:
        print(
            f"{u.password_env} not set: login user {u.name} left as it is (absent unless created before). "
            f"Add people with `create user <name> in role {u.group};` then `\\password <name>` in psql"
            " (README, 'Connect your BI tool')."
        )
    bi = bi_tcp_url(url)
    if bi:
        print(f"BI (read-only, marts): {bi}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
