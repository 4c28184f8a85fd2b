"""The Glue Data Catalog table over the cleaned zone: created, updated and partitioned idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PARQUET_SERDE = {
    "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    "Parameters": {"serialization.format": "1"},
}
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"


@dataclass(frozen=True)
class TableDescription:
    database: str
    name: str
    location: str
    columns: list[dict[str, str]]
    partition_keys: list[dict[str, str]]
    partitions: dict[str, str]  # partition value -> location


def _storage(location: str, columns: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "Columns": columns,
        "Location": location,
        "InputFormat": PARQUET_INPUT,
        "OutputFormat": PARQUET_OUTPUT,
        "SerdeInfo": PARQUET_SERDE,
    }


def table_input(
    name: str, location: str, columns: list[dict[str, str]], partition_key: str, description: str
) -> dict[str, Any]:
    return {
        "Name": name,
        "Description": description,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"classification": "parquet", "EXTERNAL": "TRUE", "parquet.compression": "ZSTD"},
        "PartitionKeys": [{"Name": partition_key, "Type": "string"}],
        "StorageDescriptor": _storage(location, columns),
    }


def _same(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    sd, want_sd = current.get("StorageDescriptor", {}), wanted["StorageDescriptor"]
    return (
        sd.get("Columns") == want_sd["Columns"]
        and sd.get("Location") == want_sd["Location"]
        and sd.get("SerdeInfo", {}).get("SerializationLibrary") == PARQUET_SERDE["SerializationLibrary"]
        and current.get("PartitionKeys") == wanted["PartitionKeys"]
        and current.get("Description") == wanted["Description"]
    )


def ensure_table(glue: Any, database: str, wanted: dict[str, Any]) -> str:
    """Create the table, or update it when it differs; return "created", "updated" or "unchanged"."""
    try:
        current = glue.get_table(DatabaseName=database, Name=wanted["Name"])["Table"]
    except glue.exceptions.EntityNotFoundException:
        glue.create_table(DatabaseName=database, TableInput=wanted)
        return "created"
    if _same(current, wanted):
        return "unchanged"
    glue.update_table(DatabaseName=database, TableInput=wanted)
    return "updated"


def get_partitions(glue: Any, database: str, table: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for page in glue.get_paginator("get_partitions").paginate(DatabaseName=database, TableName=table):
        for partition in page["Partitions"]:
            found[partition["Values"][0]] = partition["StorageDescriptor"]["Location"]
    return found


def ensure_partitions(
    glue: Any, database: str, table: str, columns: list[dict[str, str]], wanted: dict[str, str]
) -> list[str]:
    """Register every partition (value -> location) not yet in the catalog; return those added."""
    missing = sorted(set(wanted) - set(get_partitions(glue, database, table)))
    for start in range(0, len(missing), 100):  # the API takes 100 partitions per call
        chunk = missing[start : start + 100]
        response = glue.batch_create_partition(
            DatabaseName=database,
            TableName=table,
            PartitionInputList=[
                {"Values": [value], "StorageDescriptor": _storage(wanted[value], columns)} for value in chunk
            ],
        )
        if errors := response.get("Errors"):
            raise RuntimeError(f"Glue refused partitions of {database}.{table}: {errors}")
    return missing


def describe_table(glue: Any, database: str, table: str) -> TableDescription:
    found = glue.get_table(DatabaseName=database, Name=table)["Table"]
    return TableDescription(
        database=database,
        name=table,
        location=found["StorageDescriptor"]["Location"],
        columns=found["StorageDescriptor"]["Columns"],
        partition_keys=found.get("PartitionKeys", []),
        partitions=get_partitions(glue, database, table),
    )


def table_names(glue: Any, database: str) -> list[str]:
    """Every table of `database`, by name."""
    return [table["Name"] for page in glue.get_paginator("get_tables").paginate(DatabaseName=database)
            for table in page["TableList"]]  # fmt: skip
