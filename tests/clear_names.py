"""The search for names in clear, shared by the privacy tests.

Folding makes `NGUYỄN Văn An` (NFC or NFD), `nguyen van an` and `Nguyễn  Văn An`
meet; the scan reads every text, JSON and array column of every table and view.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

TEXT_COLUMNS_SQL = """
select n.nspname, c.relname, a.attname
from pg_attribute as a
join pg_class as c on c.oid = a.attrelid
join pg_namespace as n on n.oid = c.relnamespace
where c.relkind in ('r', 'p', 'v', 'm', 'f')
  and a.attnum > 0 and not a.attisdropped
  and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg\\_%%'
  and a.atttypid in (
      'text'::regtype, 'varchar'::regtype, 'bpchar'::regtype, 'json'::regtype, 'jsonb'::regtype,
      'text[]'::regtype, 'varchar[]'::regtype, 'jsonb[]'::regtype, 'xml'::regtype
  )
order by 1, 2, 3
"""


def fold(text: str) -> str:
    """Case, Unicode form and diacritics folded: `NGUYỄN Văn An` (NFC or NFD) and `nguyen van an` meet."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", stripped.casefold())


def name_pattern(names: list[str]) -> re.Pattern[str]:
    needles = sorted({fold(n) for n in names if n.strip()}, key=len, reverse=True)
    return re.compile("|".join(re.escape(n) for n in needles))


@dataclass
class Scan:
    """What a scan found (`hits`) and what it read, so a test can assert it read something."""

    hits: list[str] = field(default_factory=list)
    tables: set[tuple[str, str]] = field(default_factory=set)
    values: int = 0


def scan_tables(conn: psycopg.Connection, pattern: re.Pattern[str]) -> Scan:
    scan = Scan()
    for schema, table, column in conn.execute(TEXT_COLUMNS_SQL).fetchall():
        scan.tables.add((schema, table))
        col = sql.Identifier(column)
        rows = conn.execute(
            sql.SQL("select distinct {}::text from {} where {} is not null").format(
                col, sql.Identifier(schema, table), col
            )
        ).fetchall()
        scan.values += len(rows)
        for (value,) in rows:
            found = pattern.search(fold(value))
            if found:
                scan.hits.append(f"{schema}.{table}.{column}: {found.group(0)!r} in {value[:120]!r}")
    return scan
