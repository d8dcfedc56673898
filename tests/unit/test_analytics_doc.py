"""docs/analytics.md keeps up with the model: a section per table and view, every column named in it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import duckdb
import pytest

from analytics.sql_files import SCHEMA, sql

DOC = Path(__file__).resolve().parents[2] / "docs" / "analytics.md"


@cache
def sections() -> dict[str, str]:
    """The text under each `### `name`` heading, up to the next heading of level 2 or 3."""
    parts = re.split(r"^(#{2,3} .*)$", DOC.read_text(), flags=re.M)
    found: dict[str, str] = {}
    for heading, body in zip(parts[1::2], parts[2::2], strict=True):
        named = re.fullmatch(r"### `([a-z0-9_]+)`", heading.strip())
        if named:
            found[named.group(1)] = body
    return found


@cache
def model() -> duckdb.DuckDBPyConnection:
    """The whole schema, empty, in memory (shared: the tests only read it)."""
    con = duckdb.connect()
    for name in SCHEMA:
        con.execute(sql(name))
    return con


@cache
def columns() -> dict[str, list[str]]:
    """Each model's columns; none for a file of macros."""
    rows = model().execute("select table_name, column_name from duckdb_columns() order by column_index").fetchall()
    return {name: [column for table, column in rows if table == name] for name in SCHEMA}


@cache
def macros() -> list[str]:
    rows = model().execute("select distinct function_name from duckdb_functions() "
                           "where function_type in ('macro', 'table_macro') and not internal").fetchall()
    return sorted(name for (name,) in rows)


def test_every_model_in_the_schema_has_its_own_section_in_the_analytics_doc() -> None:
    assert sorted(set(SCHEMA) - set(sections())) == []


@pytest.mark.parametrize("name", SCHEMA)
def test_every_column_of_a_model_is_named_in_its_section(name: str) -> None:
    body = sections().get(name, "")
    missing = [column for column in columns()[name] if f"`{column}`" not in body]
    assert missing == [], f"docs/analytics.md, section {name}: columns not described"


def test_every_macro_of_the_schema_is_named_in_the_analytics_doc() -> None:
    text = DOC.read_text()
    assert macros() and [name for name in macros() if f"`{name}(" not in text] == []


@pytest.mark.parametrize("name", SCHEMA)
def test_every_section_carries_an_example_query(name: str) -> None:
    assert "```sql" in sections().get(name, ""), f"docs/analytics.md, section {name}: no example query"


@pytest.mark.parametrize("name", SCHEMA)
def test_every_example_query_runs_on_the_model(name: str) -> None:
    for query in re.findall(r"```sql\n(.*?)```", sections().get(name, ""), flags=re.S):
        model().cursor().execute(query).fetchall()
