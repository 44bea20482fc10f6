"""Hostile inputs to the `smcost` commands: each row is a command with one bad input, the exit code
it must give and a fragment of the one-line message that names the problem. Every command runs as a
real process (`python -m smcost`), on real files and real DuckDB databases; a traceback anywhere on
stderr fails the row.

Also here: names that would become paths outside the lake (`--export-name ../../x`), a closed
stdout pipe for every command, a DuckDB file locked by another process, and `smcost summary` after a
real incremental `dbt build` (it must compare the windowed staging table with the same periods of
the fact, and say which periods it checked).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from smcost import lake
from smcost.demo import generate
from smcost_testing import REPO, run_dbt

LAKE = "s3://smcost-test-lake/lake"


@dataclass
class Ran:
    code: int
    out: str
    err: str


def smcost(*argv: str, stdout=subprocess.PIPE) -> Ran:
    result = subprocess.run(
        [sys.executable, "-m", "smcost", *argv], cwd=REPO, stdout=stdout, stderr=subprocess.PIPE, text=True
    )
    return Ran(result.returncode, result.stdout or "", result.stderr)


# --------------------------------------------------------------------------------------------
# Files the rows point at ({junk}, {locked}, ...): real files, made per test
# --------------------------------------------------------------------------------------------


@pytest.fixture
def locked_database(tmp_path) -> Iterator[Path]:
    """A DuckDB file held open for writing by another process (as a running `dbt build` holds it)."""
    path = tmp_path / "locked.duckdb"
    duckdb.connect(str(path)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys\ncon = duckdb.connect(sys.argv[1])\nprint('ready', flush=True)\nsys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"  # the lock is held from here on
        yield path
    finally:
        holder.stdin.close()  # the holder exits when its stdin closes
        holder.wait()


def placeholders(tmp_path: Path, request: pytest.FixtureRequest, argv: list[str]) -> dict[str, str]:
    made = {"tmp": str(tmp_path), "lake": str(tmp_path / "work" / "lake")}
    wanted = set(re.findall(r"\{(\w+)\}", " ".join(argv)))
    if "junk" in wanted:
        (tmp_path / "junk.duckdb").write_text("select 1; -- a SQL script, not a database\n" * 200)
        made["junk"] = str(tmp_path / "junk.duckdb")
    if "empty" in wanted:
        (tmp_path / "empty.duckdb").touch()
        made["empty"] = str(tmp_path / "empty.duckdb")
    if "folder" in wanted:
        (tmp_path / "a-folder.duckdb").mkdir()
        made["folder"] = str(tmp_path / "a-folder.duckdb")
    if "nomarts" in wanted:
        duckdb.connect(str(tmp_path / "nomarts.duckdb")).close()
        made["nomarts"] = str(tmp_path / "nomarts.duckdb")
    if "locked" in wanted:
        made["locked"] = str(request.getfixturevalue("locked_database"))
    return made


@dataclass(frozen=True)
class Case:
    id: str
    argv: list[str]
    code: int
    message: str  # must appear in stderr's last line (the one line that names the problem)
    stdout_empty: bool = field(default=True)


CASES = [
    # smcost demo: names that become paths, and the knobs' bounds
    Case(
        "demo-export-name-climbs-out",
        ["demo", "--out", "{lake}", "--export-name", "../../x"],
        2,
        "argument --export-name: may contain only letters, digits, '-', '_' and '.'",
    ),
    Case("demo-export-name-dotdot", ["demo", "--out", "{lake}", "--export-name", ".."], 2, "not only dots"),
    Case("demo-export-name-slash", ["demo", "--out", "{lake}", "--export-name", "a/b"], 2, "no '/'"),
    Case("demo-export-name-absolute", ["demo", "--out", "{lake}", "--export-name", "/etc"], 2, "--export-name"),
    Case("demo-export-name-empty", ["demo", "--out", "{lake}", "--export-name", ""], 2, "--export-name"),
    Case("demo-export-name-quote", ["demo", "--out", "{lake}", "--export-name", "it's"], 2, "--export-name"),
    Case(
        "demo-start-month-13",
        ["demo", "--out", "{lake}", "--start-month", "2026-13"],
        2,
        "argument --start-month: must be YYYY-MM with month 01-12",
    ),
    Case("demo-start-month-00", ["demo", "--out", "{lake}", "--start-month", "2026-00"], 2, "month 01-12"),
    Case("demo-start-month-no-zero", ["demo", "--out", "{lake}", "--start-month", "2026-8"], 2, "YYYY-MM"),
    Case("demo-start-month-a-date", ["demo", "--out", "{lake}", "--start-month", "2026-08-01"], 2, "YYYY-MM"),
    Case("demo-start-month-year-1", ["demo", "--out", "{lake}", "--start-month", "0001-01"], 2, "year 2000-2099"),
    Case(
        "demo-months-1",
        ["demo", "--out", "{lake}", "--months", "1"],
        2,
        "argument --months: must be between 2 (the correction restates an earlier period) and 36, got 1",
    ),
    Case("demo-months-0", ["demo", "--out", "{lake}", "--months", "0"], 2, "between 2"),
    Case("demo-months-negative", ["demo", "--out", "{lake}", "--months", "-3"], 2, "got -3"),
    # (a second bad flag after the one under test: should its check ever go, the row fails at once
    # on the other message instead of generating a huge account)
    Case("demo-months-too-many", ["demo", "--out", "{lake}", "--months", "37", "--scale", "0"], 2, "and 36, got 37"),
    Case(
        "demo-months-not-a-number",
        ["demo", "--out", "{lake}", "--months", "three"],
        2,
        "argument --months: expected a whole number, got 'three'",
    ),
    Case(
        "demo-scale-0", ["demo", "--out", "{lake}", "--scale", "0"], 2, "argument --scale: must be between 1 and 1000"
    ),
    Case("demo-scale-huge", ["demo", "--out", "{lake}", "--scale", "100000", "--months", "0"], 2, "got 100000"),
    Case("demo-seed-negative", ["demo", "--out", "{lake}", "--seed", "-1"], 2, "argument --seed: must be 0 or more"),
    # smcost athena ddl: nothing that could end a string or identifier reaches the DDL
    Case(
        "athena-lake-quote",
        ["athena", "ddl", "--lake", "s3://bucket/it's"],
        2,
        "argument --lake: each folder of the s3:// URI may contain only letters, digits",
    ),
    Case(
        "athena-lake-injection",
        ["athena", "ddl", "--lake", "s3://bucket/x'; DROP DATABASE smcost; --"],
        2,
        "argument --lake:",
    ),
    Case("athena-lake-backslash", ["athena", "ddl", "--lake", "s3://bucket/a\\'b"], 2, "argument --lake:"),
    Case("athena-lake-projection-placeholder", ["athena", "ddl", "--lake", "s3://bucket/${x}"], 2, "argument --lake:"),
    Case("athena-lake-dotdot", ["athena", "ddl", "--lake", "s3://bucket/a/../b"], 2, "not only dots"),
    Case(
        "athena-export-location-quote",
        ["athena", "ddl", "--lake", LAKE, "--export-location", "s3://b-1/x'y"],
        2,
        "argument --export-location: each folder",
    ),
    Case(
        "athena-output-location-quote",
        ["athena", "ddl", "--lake", LAKE, "--output-location", "s3://b-1/'"],
        2,
        "argument --output-location:",
    ),
    Case(
        "athena-database-path",
        ["athena", "ddl", "--lake", LAKE, "--database", "../x"],
        2,
        "argument --database: a Glue name may contain only letters, digits and underscores",
    ),
    Case("athena-database-backquote", ["athena", "ddl", "--lake", LAKE, "--database", "a`b"], 2, "--database"),
    Case(
        "athena-prefix-quote",
        ["athena", "ddl", "--lake", LAKE, "--table-prefix", "sm'"],
        2,
        "argument --table-prefix: a Glue name",
    ),
    Case(
        "athena-focus-table-dot",
        ["athena", "ddl", "--lake", LAKE, "--focus-table", "db.t"],
        2,
        "argument --focus-table: a Glue name",
    ),
    # smcost summary: bad numbers and files that are not a readable DuckDB database
    Case(
        "summary-top-negative",
        ["summary", "--database", "{nomarts}", "--top", "-1"],
        2,
        "argument --top: must be at least 1, got -1",
    ),
    Case("summary-top-zero", ["summary", "--database", "{nomarts}", "--top", "0"], 2, "must be at least 1, got 0"),
    Case("summary-top-not-a-number", ["summary", "--top", "ten"], 2, "argument --top: expected a whole number"),
    Case("summary-not-duckdb", ["summary", "--database", "{junk}"], 2, "junk.duckdb is not a DuckDB database"),
    Case("summary-empty-file", ["summary", "--database", "{empty}"], 2, "empty.duckdb is not a DuckDB database"),
    Case("summary-a-folder", ["summary", "--database", "{folder}"], 2, "a-folder.duckdb is a folder"),
    Case("summary-no-marts", ["summary", "--database", "{nomarts}"], 2, "the marts are missing"),
    Case(
        "summary-locked",
        ["summary", "--database", "{locked}"],
        2,
        "locked.duckdb is open for writing in another process (PID",
    ),
    # smcost explain: the same files, a period that is not a month, a format it does not print
    Case(
        "explain-no-database",
        ["explain", "--database", "{tmp}/nothing.duckdb"],
        2,
        "nothing.duckdb does not exist. Build it first: `make demo` (the demo account) or `smcost pipeline`",
    ),
    Case("explain-not-duckdb", ["explain", "--database", "{junk}"], 2, "junk.duckdb is not a DuckDB database"),
    Case("explain-a-folder", ["explain", "--database", "{folder}"], 2, "a-folder.duckdb is a folder"),
    Case(
        "explain-no-marts",
        ["explain", "--database", "{nomarts}"],
        2,
        "has no fct_model_fully_loaded_cost_monthly, fct_sagemaker_cost_by_team_monthly,",
    ),
    Case("explain-locked", ["explain", "--database", "{locked}"], 2, "is open for writing in another process (PID"),
    Case(
        "explain-period-month-13",
        ["explain", "--database", "{nomarts}", "--period", "2026-13"],
        2,
        "argument --period: must be YYYY-MM with month 01-12 and year 2000-2099, got '2026-13'",
    ),
    Case("explain-period-a-date", ["explain", "--period", "2026-10-01"], 2, "argument --period: must be YYYY-MM"),
    Case("explain-format-yaml", ["explain", "--format", "yaml"], 2, "argument --format: invalid choice: 'yaml'"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_input_gets_its_exit_code_and_one_line_naming_the_problem(case, tmp_path, request):
    values = placeholders(tmp_path, request, case.argv)
    result = smcost(*(arg.format(**values) if "{" in arg and "${" not in arg else arg for arg in case.argv))
    assert "Traceback" not in result.err, result.err
    assert result.code == case.code, result.err
    last = result.err.strip().splitlines()[-1]
    assert case.message in last, result.err
    if case.stdout_empty:
        assert result.out == ""


def test_export_name_dot_dot_never_deletes_a_folder_outside_out(tmp_path):
    # --out <tmp>/work/lake with export name ../../x: billing/../../x is <tmp>/work/x. An earlier
    # demo made billing/ exist, so the path resolves (which is when the old code deleted it).
    out = tmp_path / "work" / "lake"
    generate(str(out), months=2)
    sentinel = tmp_path / "work" / "x"
    (sentinel / "precious").mkdir(parents=True)
    (sentinel / "precious" / "keep.txt").write_text("still here")
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    result = smcost("demo", "--out", str(out), "--export-name", "../../x", "--months", "2", "--quiet")
    assert result.code == 2
    assert "--export-name" in result.err.strip().splitlines()[-1]
    assert (sentinel / "precious" / "keep.txt").read_text() == "still here"
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before  # refused before touching anything


def test_generate_refuses_the_same_names_from_python(tmp_path):
    sentinel = tmp_path / "x"
    sentinel.mkdir()
    with pytest.raises(ValueError, match="--export-name may contain only"):
        generate(str(tmp_path / "a" / "lake"), export_name="../../x")
    with pytest.raises(ValueError, match="--start-month must be YYYY-MM"):
        generate(str(tmp_path / "a" / "lake"), start_month="2026-13")
    assert sentinel.is_dir()


def test_demo_refuses_to_delete_through_a_symlink_that_leaves_the_lake(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.txt").write_text("still here")
    out = tmp_path / "lake"
    out.mkdir()
    (out / "demo").symlink_to(outside, target_is_directory=True)
    result = smcost("demo", "--out", str(out), "--months", "2", "--quiet")
    assert result.code == 2
    assert "is not inside the lake root" in result.err.strip().splitlines()[-1]
    assert (outside / "keep.txt").read_text() == "still here"


# --------------------------------------------------------------------------------------------
# lake.validate_name and the lake-root check, as a table
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["sagemaker-focus", "focus_1.2", "A-Z_a-z.0-9", "...x", "2026-08", "x" * 255])
def test_validate_name_accepts_safe_names_unchanged(value):
    assert lake.validate_name("export name", value) == value


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("..", "not only dots"),
        (".", "not only dots"),
        ("...", "not only dots"),
        ("../x", "no '/'"),
        ("a/b", "no '/'"),
        ("/abs", "no '/'"),
        ("", "may contain only"),
        ("a b", "may contain only"),
        ("it's", "may contain only"),
        ('a"b', "may contain only"),
        ("a\\b", "may contain only"),
        ("a\nb", "may contain only"),
        ("a\x00b", "may contain only"),
        ("${x}", "may contain only"),
        ("x" * 256, "longer than 255"),
        (None, "must be a string"),
    ],
)
def test_validate_name_refuses_and_says_what_is_allowed(value, fragment):
    with pytest.raises(ValueError, match=re.escape(fragment)) as refused:
        lake.validate_name("export name", value)
    assert str(refused.value).startswith("export name ")


@pytest.mark.parametrize("value, ok", [("sagemaker_", True), ("a-b", False), ("a.b", False), ("", False)])
def test_validate_name_sql_allows_only_glue_characters(value, ok):
    if ok:
        assert lake.validate_name("Glue table prefix", value, sql=True) == value
    else:
        with pytest.raises(ValueError, match="letters, digits and underscores"):
            lake.validate_name("Glue table prefix", value, sql=True)


@pytest.mark.parametrize(
    "helper, args",
    [
        ("billing_partition", ("2026-08", "../../x")),
        ("billing_partition", ("../2026-08", "sagemaker-focus")),
        ("dataset_partition", ("../models", "2026-08-01")),
        ("dataset_partition", ("models", "2026/08/01")),
        ("billing_manifest", ("2026-08", "..")),
    ],
)
def test_partition_helpers_refuse_names_that_leave_their_folder(helper, args):
    with pytest.raises(ValueError, match=r"may contain only|not only dots"):
        getattr(lake, helper)(*args)


@pytest.mark.parametrize(
    "relative, inside",
    [
        ("billing/x", True),
        ("a/b/../c", True),
        ("", False),
        (".", False),
        ("..", False),
        ("../lake-other/x", False),
        ("billing/../../x", False),
    ],
)
def test_check_inside_allows_only_paths_strictly_inside_the_lake_root(tmp_path, relative, inside):
    fs, base = lake.filesystem(str(tmp_path / "lake"))
    path = os.path.join(base, relative)
    if inside:
        assert lake.check_inside(fs, base, path) == path
    else:
        with pytest.raises(ValueError, match="not inside the lake root"):
            lake.check_inside(fs, base, path)


def test_a_partition_writer_cannot_write_or_delete_outside_the_lake(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.parquet").write_text("not the lake's")
    schema = pa.schema([pa.field("a", pa.int64())])
    with pytest.raises(ValueError, match="not inside the lake root"):
        lake.write_partition(str(tmp_path / "lake"), "../x", schema, [pa.table({"a": [1]})])
    assert (tmp_path / "x" / "keep.parquet").read_text() == "not the lake's"
    fs, base = lake.filesystem(str(tmp_path / "lake"))
    with pytest.raises(ValueError, match="not inside the lake root"):
        lake.delete_inside(fs, base, str(tmp_path / "x"), directory=True)
    assert (tmp_path / "x" / "keep.parquet").exists()


# --------------------------------------------------------------------------------------------
# A closed stdout (`smcost ... | head -1`): exit quietly, no traceback, for every command
# --------------------------------------------------------------------------------------------


def with_closed_stdout(*argv: str) -> Ran:
    """Run with stdout a pipe whose reader has already gone: every write fails with EPIPE, so the
    outcome does not depend on timing (unlike a real `| head -1`)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return smcost(*argv, stdout=write_end)
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "argv",
    [
        ["athena", "ddl", "--lake", LAKE],
        ["demo", "--out", "{tmp}/lake", "--months", "2", "--quiet"],
        ["summary", "--database", "{built}"],
        ["explain", "--database", "{built}"],
    ],
    ids=["athena-ddl", "demo", "summary", "explain"],
)  # (--help already copes: argparse ignores a failed write)
def test_a_closed_stdout_pipe_exits_quietly_with_141(argv, tmp_path, request):
    values = {"tmp": str(tmp_path)}
    if "{built}" in argv:
        values["built"] = str(request.getfixturevalue("incremental_build"))
    result = with_closed_stdout(*(a.format(**values) for a in argv))
    assert result.err == ""  # no traceback, no "Exception ignored" at interpreter exit
    assert result.code == 141  # 128 + SIGPIPE, as a shell reports a reader that went away


# --------------------------------------------------------------------------------------------
# `smcost summary` after a real incremental build
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def incremental_build(tmp_path_factory) -> Path:
    """Three demo months; a first `dbt build` (builds all); then an incremental one as of 2026-10,
    which stages only the lookback window (2026-09, 2026-10) and keeps 2026-08 in the fact."""
    root = tmp_path_factory.mktemp("summary-incremental")
    lake_root, work = root / "lake", root / "dbt"
    work.mkdir()
    generate(str(lake_root), seed=11, months=3, start_month="2026-08")
    database = work / "smcost.duckdb"
    run_dbt(["build"], lake_root=lake_root, database=database, work=work)
    run_dbt(["build"], lake_root=lake_root, database=database, work=work, vars={"as_of_billing_period": "2026-10"})
    with duckdb.connect(str(database), read_only=True) as con:
        staged = [
            p for (p,) in con.execute("select distinct billing_period from stg_focus__charges order by 1").fetchall()
        ]
        facts = [
            p
            for (p,) in con.execute(
                "select distinct billing_period from fct_sagemaker_cost_allocations order by 1"
            ).fetchall()
        ]
    assert (staged, facts) == (["2026-09", "2026-10"], ["2026-08", "2026-09", "2026-10"])  # really incremental
    return database


def summary_of(database: Path) -> str:
    result = smcost("summary", "--database", str(database))
    assert result.code == 0 and "Traceback" not in result.err, result.err
    return result.out


def reconciliation_lines(out: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "reconciles to the staged bill" in line)
    return [line.strip() for line in lines[start : start + 2] if line.strip()]


def test_summary_after_an_incremental_build_reconciles_the_periods_it_staged(incremental_build):
    out = summary_of(incremental_build)
    assert out.count("(USD)") == 3  # the fact's three periods are all reported
    assert reconciliation_lines(out) == [
        "reconciles to the staged bill: yes, for 2026-09, 2026-10 (difference 0.000000)",
        "not checked here: 2026-08 (kept from an earlier build; the last build staged only the periods above)",
    ]
    assert "Tag coverage (2026-09, 2026-10):" in out


def tampered(database: Path, tmp_path: Path, period: str, delta: float) -> Path:
    """A copy of the build with one allocation of ``period`` off by ``delta``."""
    copy = tmp_path / f"tampered-{period}.duckdb"
    shutil.copy(database, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute(
            """update fct_sagemaker_cost_allocations set effective_cost = effective_cost + ?
                       where rowid = (select min(rowid) from fct_sagemaker_cost_allocations where billing_period = ?)""",
            [delta, period],
        )
    return copy


def test_summary_says_no_and_names_the_period_when_a_checked_period_is_off(incremental_build, tmp_path):
    lines = reconciliation_lines(summary_of(tampered(incremental_build, tmp_path, "2026-10", 1.25)))
    assert (
        lines[0]
        == "reconciles to the staged bill: NO for 2026-10 (checked 2026-09, 2026-10; largest difference 1.250000)"
    )


def test_summary_does_not_judge_a_period_the_last_build_did_not_stage(incremental_build, tmp_path):
    lines = reconciliation_lines(summary_of(tampered(incremental_build, tmp_path, "2026-08", 1.25)))
    assert lines[0].startswith("reconciles to the staged bill: yes, for 2026-09, 2026-10")
    assert lines[1].startswith("not checked here: 2026-08 (kept from an earlier build")


# --------------------------------------------------------------------------------------------
# Docs agree with what ships
# --------------------------------------------------------------------------------------------


def test_the_readmes_role_name_is_the_role_the_shipped_policy_and_docs_use():
    readme = (REPO / "README.md").read_text()
    named = set(re.findall(r"--role-name[ =]([A-Za-z0-9+=,.@_-]+)", readme))
    assert named, "README shows no --role-name example"
    policy = json.loads((REPO / "extract" / "iam-policy.json").read_text())
    assumable = set()
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "sts:AssumeRole" in actions:
            assumable |= {r.rsplit(":role/", 1)[1].rsplit("/", 1)[-1] for r in resources if ":role/" in r}
    assert named <= assumable, (
        f"README's role {named} is not the one iam-policy.json lets the extractor assume {assumable}"
    )
    documented = set(re.findall(r"--role-name[ =]([A-Za-z0-9+=,.@_-]+)", (REPO / "docs" / "extract.md").read_text()))
    assert named <= documented, f"README's role {named}, docs/extract.md's {documented}"
