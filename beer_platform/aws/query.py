"""SQL over the Glue tables: DuckDB reading the tables' Parquet from S3 locally, Athena in AWS.

Both resolve the tables through the Glue catalog (location, partitions), as any lake user would.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from importlib.resources import files
from typing import Any
from urllib.parse import urlparse

from beer_platform.aws.glue import describe_table, table_names


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple]
    engine: str


class QueryError(RuntimeError):
    pass


def httpfs_extension_path() -> str:
    """The httpfs extension shipped by the `duckdb-extension-httpfs` wheel: loads offline."""
    import duckdb

    version = f"v{duckdb.__version__}"
    path = files("duckdb_extension_httpfs") / "extensions" / version / "httpfs.duckdb_extension"
    if not path.is_file():
        raise QueryError(f"no httpfs extension for duckdb {version} at {path}: pin matching versions")
    return str(path)


class DuckDBGlueQuery:
    """Registers each Glue table the SQL names as a DuckDB table of the same name, then runs it."""

    def __init__(self, glue: Any, database: str, endpoint_url: str, region: str,
                 credentials: tuple[str, str, str | None]) -> None:  # fmt: skip
        self.glue, self.database = glue, database
        self.endpoint_url, self.region, self.credentials = endpoint_url, region, credentials

    def _connect(self):
        import duckdb

        con = duckdb.connect()
        con.execute(f"INSTALL '{httpfs_extension_path()}'")
        con.execute("LOAD httpfs")
        endpoint = urlparse(self.endpoint_url)
        key, secret, token = self.credentials
        con.execute(
            "CREATE SECRET lake (TYPE s3, KEY_ID ?, SECRET ?, SESSION_TOKEN ?, REGION ?, ENDPOINT ?, "
            "URL_STYLE 'path', USE_SSL ?)",
            [key, secret, token or "", self.region, endpoint.netloc, endpoint.scheme == "https"],
        )
        return con

    def run(self, sql: str) -> QueryResult:
        con = self._connect()
        registered = 0
        named = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql.lower()))
        for name in [name for name in table_names(self.glue, self.database) if name in named]:
            table = describe_table(self.glue, self.database, name)
            if not table.partitions:
                continue
            globs = [location.rstrip("/") + "/*.parquet" for _, location in sorted(table.partitions.items())]
            # A real table, not a view: duckdb 1.5.5 fails on aggregates over hive columns of a view.
            con.execute(
                f'CREATE TABLE "{name}" AS SELECT * FROM read_parquet(?, hive_partitioning = true, '
                "hive_types_autocast = false)",
                [globs],
            )
            registered += 1
        if not registered:
            raise QueryError(f"the query names no table of {self.database} with partitions (tables: "
                             f"{', '.join(table_names(self.glue, self.database)) or 'none yet'})")
        try:
            cursor = con.execute(sql)
        except Exception as err:  # duckdb raises many error types; all mean "bad query"
            raise QueryError(str(err)) from err
        columns = [d[0] for d in cursor.description or []]
        return QueryResult(columns=columns, rows=cursor.fetchall(), engine="duckdb")


class AthenaQuery:
    def __init__(self, athena: Any, database: str, workgroup: str, poll_s: float = 0.5, timeout_s: float = 300) -> None:
        self.athena, self.database, self.workgroup = athena, database, workgroup
        self.poll_s, self.timeout_s = poll_s, timeout_s

    def run(self, sql: str) -> QueryResult:
        qid = self.athena.start_query_execution(
            QueryString=sql, QueryExecutionContext={"Database": self.database}, WorkGroup=self.workgroup
        )["QueryExecutionId"]
        deadline = time.monotonic() + self.timeout_s
        while True:
            status = self.athena.get_query_execution(QueryExecutionId=qid)["QueryExecution"]["Status"]
            if status["State"] == "SUCCEEDED":
                break
            if status["State"] in ("FAILED", "CANCELLED"):
                raise QueryError(status.get("StateChangeReason", status["State"]))
            if time.monotonic() > deadline:
                self.athena.stop_query_execution(QueryExecutionId=qid)
                raise QueryError(f"Athena query {qid} timed out after {self.timeout_s}s")
            time.sleep(self.poll_s)
        rows: list[tuple] = []
        columns: list[str] = []
        for page in self.athena.get_paginator("get_query_results").paginate(QueryExecutionId=qid):
            if not columns:
                columns = [c["Name"] for c in page["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]]
            for row in page["ResultSet"]["Rows"]:
                rows.append(tuple(cell.get("VarCharValue") for cell in row["Data"]))
        # Athena returns the header as the first row of the first page.
        if rows and list(rows[0]) == columns:
            rows = rows[1:]
        return QueryResult(columns=columns, rows=rows, engine="athena")
