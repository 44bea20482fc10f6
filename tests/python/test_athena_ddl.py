"""`smcost athena ddl`: the Athena tables over the lake, generated from the shared schemas.

The DDL is read back with sqlglot (Athena dialect), never with string matching of our own output,
and its expectations come from schemas.py through a small type table kept here. `--run` goes over
HTTP to moto's Athena (ThreadedMotoServer), which records every query it is given; moto cannot
make a query fail, so that one behaviour uses a botocore Stubber, which checks the calls against
the real Athena API shapes.
"""

from __future__ import annotations

import functools
import posixpath
import socket
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import boto3
import pyarrow as pa
import pytest
import sqlglot
from botocore.stub import Stubber
from moto.server import ThreadedMotoServer
from sqlglot import exp

from smcost import cli, lake
from smcost.athena import AthenaError, DateProjection, DdlOptions, TableSpec, create_table_sql, ddl_statements, execute
from smcost.schemas import DATASETS, focus_schema

LAKE = "s3://smcost-test-lake/lake"
REGION = "us-east-1"

# Arrow type -> the Athena type expected in the DDL, as sqlglot renders it back in Hive syntax.
SCALAR_TYPES = {
    pa.string(): "STRING",
    pa.float64(): "DOUBLE",
    pa.int64(): "BIGINT",
    pa.bool_(): "BOOLEAN",
    pa.timestamp("ms"): "TIMESTAMP",
}


def expected_type(arrow_type: pa.DataType) -> str:
    if arrow_type in SCALAR_TYPES:
        return SCALAR_TYPES[arrow_type]
    if pa.types.is_map(arrow_type):
        return f"MAP<{expected_type(arrow_type.key_type)}, {expected_type(arrow_type.item_type)}>"
    if pa.types.is_list(arrow_type):
        return f"ARRAY<{expected_type(arrow_type.value_type)}>"
    if pa.types.is_struct(arrow_type):
        return "STRUCT<" + ", ".join(f"{f.name}: {expected_type(f.type)}" for f in arrow_type) + ">"
    raise AssertionError(f"the test's type table lacks {arrow_type}")


# --------------------------------------------------------------------------------------------
# Helpers: run the CLI in-process, read statements back with sqlglot
# --------------------------------------------------------------------------------------------


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def smcost(capsys):
    def invoke(*argv: str) -> Result:
        try:
            code = cli.main(list(argv))
        except SystemExit as exit_:  # argparse errors
            code = exit_.code
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def split_script(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n") if s.strip()]


def parse(statement: str) -> exp.Create:
    tree = sqlglot.parse_one(statement, read="athena")
    assert isinstance(tree, exp.Create), statement
    return tree


@dataclass
class Table:
    database: str
    name: str
    columns: list[tuple[str, str]]
    partition_columns: list[tuple[str, str]]
    location: str
    properties: dict[str, str]
    serde: str
    is_external: bool
    if_not_exists: bool


def read_table(statement: str) -> Table:
    tree = parse(statement)
    assert tree.args["kind"] == "TABLE"
    props = tree.args["properties"].expressions
    partitioned = next(p for p in props if isinstance(p, exp.PartitionedByProperty))
    return Table(
        database=tree.find(exp.Table).db,
        name=tree.find(exp.Table).name,
        columns=[(c.name, c.args["kind"].sql("hive")) for c in tree.this.expressions],
        partition_columns=[(c.name, c.args["kind"].sql("hive")) for c in partitioned.this.expressions],
        location=next(p for p in props if isinstance(p, exp.LocationProperty)).text("this"),
        properties={p.name: p.text("value") for p in props if type(p) is exp.Property},
        serde=next(p for p in props if isinstance(p, exp.RowFormatSerdeProperty)).text("this"),
        is_external=any(isinstance(p, exp.ExternalProperty) for p in props),
        if_not_exists=bool(tree.args.get("exists")),
    )


@functools.cache  # parsing ~20 statements is the slow part; scripts repeat
def tables(script: str) -> dict[str, Table]:
    found = [read_table(s) for s in split_script(script) if parse(s).args["kind"] == "TABLE"]
    return {t.name: t for t in found}


@pytest.fixture
def default_tables(smcost) -> dict[str, Table]:
    result = smcost("athena", "ddl", "--lake", LAKE)
    assert result.code == 0, result.err
    return tables(result.out)


# --------------------------------------------------------------------------------------------
# The generated DDL
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", sorted(DATASETS))
def test_dataset_table_has_exactly_the_datasets_columns_in_order_with_mapped_types(default_tables, dataset):
    table = default_tables[f"sagemaker_{dataset}"]
    expected = [(f.name, expected_type(f.type)) for f in DATASETS[dataset].schema]
    assert table.columns == expected


def test_every_statement_parses_as_athena_ddl_database_first(smcost):
    statements = split_script(smcost("athena", "ddl", "--lake", LAKE).out)
    kinds = [parse(s).args["kind"] for s in statements]
    assert kinds == ["DATABASE"] + ["TABLE"] * (len(DATASETS) + 1)
    assert parse(statements[0]).this.name == "smcost"


def test_every_table_is_external_parquet_in_the_smcost_database(default_tables):
    for table in default_tables.values():
        assert table.is_external and table.if_not_exists
        assert table.database == "smcost"
        assert table.serde == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


def test_dataset_tables_project_extract_date_by_day_from_start_to_now(default_tables):
    for dataset in DATASETS:
        table = default_tables[f"sagemaker_{dataset}"]
        assert table.partition_columns == [("extract_date", "STRING")]
        assert table.properties == {
            "projection.enabled": "true",
            "projection.extract_date.type": "date",
            "projection.extract_date.format": "yyyy-MM-dd",
            "projection.extract_date.range": "2024-01-01,NOW",
            "projection.extract_date.interval": "1",
            "projection.extract_date.interval.unit": "DAYS",
            "storage.location.template": f"{LAKE}/sagemaker/{dataset}/extract_date=${{extract_date}}/",
        }


def test_focus_table_projects_billing_period_by_month_as_aws_delivers_it(default_tables):
    table = default_tables["focus_export"]
    assert table.partition_columns == [("billing_period", "STRING")]
    assert table.location == f"{LAKE}/billing/sagemaker-focus/data/"
    assert table.properties == {
        "projection.enabled": "true",
        "projection.billing_period.type": "date",
        "projection.billing_period.format": "yyyy-MM",
        "projection.billing_period.range": "2020-01,NOW",
        "projection.billing_period.interval": "1",
        "projection.billing_period.interval.unit": "MONTHS",
        "storage.location.template": f"{LAKE}/billing/sagemaker-focus/data/BILLING_PERIOD=${{billing_period}}/",
    }


def test_locations_follow_the_lake_layout_the_writers_use(default_tables):
    # The writers' helpers only take safe names, so lay out a real value and put the projection
    # placeholder in its place.
    for dataset in DATASETS:
        table = default_tables[f"sagemaker_{dataset}"]
        folder = lake.dataset_partition(dataset, "2026-01-31").replace("2026-01-31", "${extract_date}")
        assert table.properties["storage.location.template"] == f"{LAKE}/{folder}/"
        assert table.location == f"{LAKE}/{posixpath.dirname(folder)}/"
    focus = default_tables["focus_export"]
    billing = lake.billing_partition("2026-01").replace("2026-01", "${billing_period}")
    assert focus.properties["storage.location.template"] == f"{LAKE}/{billing}/"


@pytest.mark.parametrize("version, count", [("1.2", 60), ("1.0", 48)])
def test_focus_table_has_the_exports_columns_lowercase_with_tags_as_a_map(smcost, version, count):
    table = tables(smcost("athena", "ddl", "--lake", LAKE, "--focus-version", version).out)["focus_export"]
    assert len(table.columns) == count
    assert table.columns == [(f.name.lower(), expected_type(f.type)) for f in focus_schema(version)]
    assert ("tags", "MAP<STRING, STRING>") in table.columns


def test_focus_table_defaults_to_version_1_2(default_tables):
    assert ("skumeter", "STRING") in default_tables["focus_export"].columns
    assert len(default_tables["focus_export"].columns) == 60


def test_export_location_moves_only_the_focus_table(smcost):
    export = "s3://billing-bucket/exports/sagemaker-focus"
    found = tables(smcost("athena", "ddl", "--lake", LAKE, "--export-location", export + "/").out)
    assert found["focus_export"].location == f"{export}/data/"
    assert found["focus_export"].properties["storage.location.template"] == (
        f"{export}/data/BILLING_PERIOD=${{billing_period}}/"
    )
    assert found["sagemaker_training_jobs"].location == f"{LAKE}/sagemaker/training_jobs/"


def test_database_prefix_and_focus_table_names_come_from_the_flags(smcost):
    result = smcost(
        "athena", "ddl", "--lake", LAKE, "--database", "finops", "--table-prefix", "sm_", "--focus-table", "cur_focus"
    )
    assert parse(split_script(result.out)[0]).this.name == "finops"
    found = tables(result.out)
    assert set(found) == {f"sm_{d}" for d in DATASETS} | {"cur_focus"}
    assert {t.database for t in found.values()} == {"finops"}


def test_no_focus_table_leaves_only_the_dataset_tables(smcost):
    found = tables(smcost("athena", "ddl", "--lake", LAKE, "--no-focus-table").out)
    assert set(found) == {f"sagemaker_{d}" for d in DATASETS}


def test_extract_date_start_sets_the_projected_range(smcost):
    found = tables(smcost("athena", "ddl", "--lake", LAKE, "--extract-date-start", "2025-06-01").out)
    assert found["sagemaker_endpoints"].properties["projection.extract_date.range"] == "2025-06-01,NOW"


def _synthetic_table() -> TableSpec:
    schema = pa.schema(
        [
            pa.field("date", pa.string()),
            pa.field("user", pa.string()),
            pa.field("timestamp", pa.timestamp("ms")),
            pa.field("_raw", pa.string()),
            pa.field("ok_name", pa.list_(pa.struct([pa.field("range", pa.int64())]))),
        ]
    )
    return TableSpec(
        "smcost",
        "table",
        schema,
        "s3://b/p/",
        DateProjection("partition", "partition", "yyyy-MM-dd", "2024-01-01", "DAYS"),
    )


def test_reserved_words_and_odd_identifiers_are_backquoted():
    sql = create_table_sql(_synthetic_table())
    for quoted in (
        "`date` string",
        "`user` string",
        "`timestamp` timestamp",
        "`_raw` string",
        "array<struct<`range`:bigint>>",
        "smcost.`table`",
        "PARTITIONED BY (`partition` string)",
    ):
        assert quoted in sql
    assert "  ok_name " in sql
    assert [c for c, _ in read_table(sql).columns] == ["date", "user", "timestamp", "_raw", "ok_name"]


def test_out_writes_the_script_that_is_otherwise_printed(smcost, tmp_path):
    printed = smcost("athena", "ddl", "--lake", LAKE).out
    result = smcost("athena", "ddl", "--lake", LAKE, "--out", str(tmp_path / "sql" / "athena.sql"))
    assert result.code == 0 and result.out == ""
    assert (tmp_path / "sql" / "athena.sql").read_text() == printed


# --------------------------------------------------------------------------------------------
# Bad arguments
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv, message",
    [
        (["athena"], "required: <command>"),
        (["athena", "ddl"], "--lake"),
        (["athena", "ddl", "--lake", "data/lake"], "Athena reads only S3"),
        (["athena", "ddl", "--lake", LAKE, "--focus-version", "1.1"], "invalid choice: '1.1'"),
        (["athena", "ddl", "--lake", LAKE, "--extract-date-start", "2024/01/01"], "YYYY-MM-DD"),
        (["athena", "ddl", "--lake", LAKE, "--database", "my-db"], "letters, digits and underscores"),
        (["athena", "ddl", "--lake", LAKE, "--output-location", "results/"], "Athena reads only S3"),
        (["athena", "ddl", "--lake", LAKE, "--workgroup", "smcost"], "add --run"),
    ],
)
def test_bad_arguments_exit_2_and_say_what_to_do(smcost, argv, message):
    result = smcost(*argv)
    assert result.code == 2
    assert message in result.err
    assert result.out == ""


@pytest.mark.parametrize("flag", ["--lake", "--export-location"])
@pytest.mark.parametrize(
    "uri",
    [
        "s3://bucket/it's",  # ends the LOCATION literal
        "s3://bucket/a' ; DROP TABLE x; --",
        "s3://bucket/back\\slash",  # Hive's escape character
        "s3://bucket/new\nline",
        "s3://bucket/${billing_period}",  # partition projection would expand it
        "s3://bucket/a/../b",
        "s3://bucket//double",
    ],
)
def test_a_uri_that_could_bend_the_ddl_is_refused_before_any_sql_is_written(smcost, flag, uri):
    argv = ["athena", "ddl", "--lake", LAKE, flag, uri] if flag != "--lake" else ["athena", "ddl", "--lake", uri]
    result = smcost(*argv)
    assert result.code == 2
    assert f"argument {flag}:" in result.err and "letters, digits, '-', '_' and '.'" in result.err
    assert result.out == ""


def test_every_allowed_character_in_a_uri_lands_in_the_ddl_unchanged(smcost):
    lake_root = "s3://my.bucket-1/Smcost_Lake-2.0/v1/"
    found = tables(smcost("athena", "ddl", "--lake", lake_root, "--export-location", lake_root + "exp.x").out)
    assert found["sagemaker_models"].location == "s3://my.bucket-1/Smcost_Lake-2.0/v1/sagemaker/models/"
    assert found["focus_export"].location == "s3://my.bucket-1/Smcost_Lake-2.0/v1/exp.x/data/"


@pytest.mark.parametrize(
    "options, message",
    [
        (dict(lake="s3://bucket/it's"), "folder of the lake URI"),
        (dict(lake=LAKE, export_location="s3://bucket/x'y"), "folder of the export location URI"),
        (dict(lake=LAKE, database="smcost`; drop"), "Glue database name"),
        (dict(lake=LAKE, table_prefix="sm'"), "Glue table prefix"),
        (dict(lake=LAKE, focus_table="a.b"), "Glue table name"),
    ],
)
def test_the_python_api_refuses_the_same_names_the_cli_does(options, message):
    with pytest.raises(ValueError, match=message):
        ddl_statements(DdlOptions(**options))


def test_a_quote_in_a_table_location_cannot_reach_the_ddl_even_past_the_uri_check():
    spec = _synthetic_table()
    bad = TableSpec("smcost", "t", spec.schema, "s3://b/it's/", spec.partition)
    with pytest.raises(ValueError, match="quotes, backslashes"):
        create_table_sql(bad)


# --------------------------------------------------------------------------------------------
# --run against moto's Athena over HTTP
# --------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint, monkeypatch, tmp_path):
    """Dummy credentials and a clean moto; boto3 finds the server through AWS_ENDPOINT_URL."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST")).close()
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL_ATHENA", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    return boto3.client("athena", region_name=REGION)


def recorded_queries(athena) -> list[dict]:
    ids = athena.list_query_executions()["QueryExecutionIds"]
    executions = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]
    return sorted(executions, key=lambda e: e["Status"]["SubmissionDateTime"])


def test_run_executes_every_statement_through_athena_in_order(smcost, aws):
    statements = split_script(smcost("athena", "ddl", "--lake", LAKE).out)
    result = smcost("athena", "ddl", "--lake", LAKE, "--run", "--output-location", "s3://athena-results/smcost/")
    assert result.code == 0, result.err
    executed = recorded_queries(aws)
    assert [e["Query"] for e in executed] == statements
    assert all(e["ResultConfiguration"]["OutputLocation"].startswith("s3://athena-results/smcost/") for e in executed)


def test_run_uses_the_work_groups_result_location_when_none_is_given(smcost, aws):
    aws.create_work_group(
        Name="smcost", Configuration={"ResultConfiguration": {"OutputLocation": "s3://athena-results/smcost-wg/"}}
    )
    result = smcost("athena", "ddl", "--lake", LAKE, "--run", "--workgroup", "smcost", "--region", REGION)
    assert result.code == 0, result.err
    executed = recorded_queries(aws)
    assert len(executed) == len(DATASETS) + 2
    assert {e["WorkGroup"] for e in executed} == {"smcost"}


def test_run_without_any_result_location_exits_2_before_running_anything(smcost, aws):
    result = smcost("athena", "ddl", "--lake", LAKE, "--run")  # moto's "primary" has no OutputLocation
    assert result.code == 2
    assert "--output-location" in result.err and "primary" in result.err
    assert aws.list_query_executions()["QueryExecutionIds"] == []


def test_a_failed_statement_stops_the_run_with_athenas_reason():
    # moto runs every query successfully, so a Stubber plays Athena refusing the first table.
    client = boto3.client("athena", region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")
    statements = [
        "CREATE DATABASE IF NOT EXISTS smcost",
        "CREATE EXTERNAL TABLE a (x string)",
        "CREATE EXTERNAL TABLE b (x string)",
    ]
    reason = "FAILED: ParseException line 1:8 cannot recognize input near 'EXTERNAL'"
    with Stubber(client) as stub:
        for query_id, sql, state in (("q-1", statements[0], "SUCCEEDED"), ("q-2", statements[1], "FAILED")):
            stub.add_response("start_query_execution", {"QueryExecutionId": query_id}, {"QueryString": sql})
            status = {"State": state, **({"StateChangeReason": reason} if state == "FAILED" else {})}
            stub.add_response(
                "get_query_execution",
                {"QueryExecution": {"QueryExecutionId": query_id, "Status": status}},
                {"QueryExecutionId": query_id},
            )
        with pytest.raises(AthenaError, match="q-2 FAILED: FAILED: ParseException") as failure:
            execute(client, statements, sleep=lambda _: None)
        stub.assert_no_pending_responses()  # and statement b was never started
    assert "CREATE EXTERNAL TABLE a" in str(failure.value)
