"""The `make demo` path end to end, through the real commands: generate, build, summarise."""

from __future__ import annotations

import math
import os
import subprocess

import duckdb

from smcost_testing import REPO, run_dbt, run_smcost


def test_demo_commands_end_to_end_at_small_scale(tmp_path):
    lake, work = tmp_path / "lake", tmp_path / "dbt"
    work.mkdir()
    generated = run_smcost("demo", "--out", str(lake), "--months", "2", "--seed", "3", "--quiet").stdout
    assert "bill rows:" in generated and "rows/s" in generated
    run_dbt(["build"], lake_root=lake, database=work / "smcost.duckdb", work=work)
    out = run_smcost("summary", "--database", str(work / "smcost.duckdb")).stdout
    assert out.count("(USD)") == 2  # one line per billing period generated
    assert "reconciles to the staged bill: yes" in out


def test_demo_summary_explains_the_bill(demo_build):
    result = run_smcost("summary", "--database", str(demo_build))
    out = result.stdout
    assert "reconciles to the staged bill: yes" in out
    for expected in (
        "Top models",
        "search-ranker",
        "Teams",
        "Unattributed",
        "tabular-mme-prod / churn-predictor",
        "Tag coverage",
    ):
        assert expected in out
    with duckdb.connect(str(demo_build), read_only=True) as con:
        top_model = con.execute("""select model from fct_sagemaker_cost_allocations where model <> 'unattributed'
                                   group by model order by sum(effective_cost) desc limit 1""").fetchone()[0]
    first_model_line = next(
        line for line in out.splitlines()[out.splitlines().index("Top models (effective cost)") + 1 :]
    )
    assert first_model_line.strip().startswith(top_model)


def test_summary_shows_what_the_models_really_cost(demo_build, demo_lake):
    out = run_smcost("summary", "--database", str(demo_build)).stdout
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("Fully-loaded cost by model, "))
    period = lines[header].split(", ")[1].split(" ")[0]
    rows = {}
    for line in lines[header + 2 :]:
        if not line.startswith("  "):
            break
        model, sagemaker, neighbours, total, hidden = line.split()
        rows[model] = tuple(float(v.replace(",", "")) for v in (sagemaker, neighbours, total, hidden.rstrip("%")))
    # The hidden share printed is what the generator's ground truth says that model caused that month
    # (within the 3 points the truth's unknowable dollars account for: test_attribution_accuracy.py).
    with duckdb.connect() as con:
        truth = con.execute(
            f"""select sum(effective_cost) filter (where service_code not in
                           ('AmazonSageMaker', 'MachineLearningSavingsPlans'))
                       / sum(effective_cost) filter (where service_code in
                           ('AmazonSageMaker', 'MachineLearningSavingsPlans'))
                from read_parquet('{demo_lake}/demo/ground_truth/*.parquet')
                where model = 'search-ranker' and billing_period = ?""",
            [period],
        ).fetchone()[0]
    sagemaker, neighbours, total, hidden = rows["search-ranker"]
    assert abs(hidden / 100 - truth) < 0.03
    assert abs(sagemaker + neighbours - total) < 0.011
    # The most expensive endpoint's five parts add up to the true monthly cost printed above them.
    start = next(i for i, line in enumerate(lines) if line.startswith("The most expensive endpoint, "))
    claimed = float(lines[start].split(" really costs ")[1].split(" a month")[0].replace(",", ""))
    parts = [
        float(line.split()[-2 if line.split()[-1].startswith(("█", "▌")) else -1].replace(",", ""))
        for line in lines[start + 1 : start + 6]
    ]
    assert abs(sum(parts) - claimed) < 0.06
    assert "Stale artifacts: " in out and "without an owner" in out


def test_summary_says_what_to_do_when_the_database_is_missing(tmp_path):
    result = run_smcost("summary", "--database", str(tmp_path / "nope.duckdb"), check=False)
    assert result.returncode == 2
    assert "make demo" in result.stderr


def test_cli_runs_as_a_module_with_help_for_every_command():
    top = run_smcost("--help").stdout
    for command in ("demo", "extract", "summary", "docs"):
        assert command in top
    assert "--seed" in run_smcost("demo", "--help").stdout


def test_dbt_source_docs_match_the_shared_schemas():
    # The committed sources and staging models YAML are rendered from extract/smcost/schemas.py; drift fails here.
    result = run_smcost("docs", "all", "--check", check=False)
    assert result.returncode == 0, result.stdout
    assert (REPO / "models/staging/sagemaker/_sagemaker__sources.yml").exists()


def ground_truth_totals(lake) -> dict[str, float]:
    """SageMaker effective cost per billing period from the demo's ground truth (written by the
    generator; it also covers the neighbour services, which the allocation fact does not)."""
    with duckdb.connect() as con:
        return dict(
            con.execute(
                f"select billing_period, sum(effective_cost) from read_parquet('{lake}/demo/ground_truth/*.parquet') "
                "where service_code in ('AmazonSageMaker', 'MachineLearningSavingsPlans') group by 1"
            ).fetchall()
        )


def test_make_demo_again_with_another_seed_shows_that_seeds_bill(tmp_path):
    lake, database = tmp_path / "lake", tmp_path / "smcost.duckdb"
    env = {**os.environ, "MAKEFLAGS": ""}
    totals = {}
    for seed in ("42", "7"):
        result = subprocess.run(
            ["make", "demo", f"LAKE={lake}", f"DB={database}", f"SEED={seed}", "MONTHS=2"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        with duckdb.connect(str(database), read_only=True) as con:
            totals[seed] = dict(
                con.execute(
                    "select billing_period, sum(effective_cost) from fct_sagemaker_cost_allocations group by 1"
                ).fetchall()
            )
        expected = ground_truth_totals(lake)
        assert totals[seed].keys() == expected.keys()
        for period, cost in expected.items():
            assert math.isclose(totals[seed][period], cost, abs_tol=1e-6), (seed, period)
    assert totals["42"] != totals["7"]  # the seeds' bills differ, so the second build really replaced the first
