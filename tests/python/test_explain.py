"""`smcost explain` on the built demo account: every figure it prints is checked against the demo's
ground truth or an independent query of another mart, the text and Markdown print the JSON's
figures, and the inputs it cannot answer get one line saying what to do.

Runs the real command (`python -m smcost explain`) on the session's demo build (conftest.demo_build).
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from smcost_testing import REPO, run_smcost

SAGEMAKER_SCOPE = "('AmazonSageMaker', 'MachineLearningSavingsPlans')"
CENT = 0.005


def explain(database: Path, *args: str) -> str:
    return run_smcost("explain", "--database", str(database), *args).stdout


@pytest.fixture(scope="module")
def report(demo_build) -> dict[str, Any]:
    return json.loads(explain(demo_build, "--format", "json"))


@pytest.fixture(scope="module")
def usd(report) -> dict[str, Any]:
    (entry,) = report["currencies"]  # the demo bills in USD only
    assert entry["billing_currency"] == "USD"
    return entry


@pytest.fixture(scope="module")
def text(demo_build) -> str:
    return explain(demo_build)


@pytest.fixture(scope="module")
def con(demo_build):
    with duckdb.connect(str(demo_build), read_only=True) as connection:
        yield connection


def truth(demo_lake: Path, name: str = "ground_truth") -> str:
    return f"read_parquet('{demo_lake}/demo/{name}/*.parquet')"


def numbers(value: Any) -> list[float]:
    """Every number in a JSON value."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    items = value.values() if isinstance(value, dict) else value
    return [n for item in items for n in numbers(item)]


# --------------------------------------------------------------------------------------------
# The total and its trend
# --------------------------------------------------------------------------------------------


def test_the_default_period_is_the_latest_in_the_marts(report, con):
    (latest,) = con.execute("select max(billing_period) from fct_sagemaker_cost_allocations").fetchone()
    assert report["billing_period"] == latest == report["periods_available"][-1]


def test_the_total_is_the_ground_truths_sagemaker_scope_effective_cost(usd, report, demo_lake):
    expected = dict(
        duckdb.sql(
            f"""select billing_period, sum(effective_cost) from {truth(demo_lake)}
                where service_code in {SAGEMAKER_SCOPE} group by 1"""
        ).fetchall()
    )
    assert usd["total"]["effective_cost"] == pytest.approx(expected[report["billing_period"]], abs=CENT)
    for month in usd["total"]["trend"]:
        assert month["effective_cost"] == pytest.approx(expected[month["billing_period"]], abs=CENT)


def test_billed_beside_effective_is_the_allocation_facts(usd, report, con):
    billed = dict(
        con.execute("select billing_period, sum(billed_cost) from fct_sagemaker_cost_allocations group by 1").fetchall()
    )
    assert usd["total"]["billed_cost"] == pytest.approx(billed[report["billing_period"]], abs=CENT)
    assert [m["billed_cost"] for m in usd["total"]["trend"]] == pytest.approx(
        [billed[m["billing_period"]] for m in usd["total"]["trend"]], abs=CENT
    )


def test_the_trend_shows_each_month_with_its_change_on_the_month_before(usd, report):
    trend = usd["total"]["trend"]
    assert [m["billing_period"] for m in trend] == report["periods_available"]
    assert trend[0]["change"] is None  # nothing before the first month
    for before, month in itertools.pairwise(trend):
        assert month["change"] == pytest.approx(month["effective_cost"] - before["effective_cost"], abs=CENT)
    assert usd["total"]["change"] == trend[-1]["change"]
    assert usd["total"]["change_share"] == pytest.approx(trend[-1]["change"] / trend[-2]["effective_cost"])


# --------------------------------------------------------------------------------------------
# Why it grew
# --------------------------------------------------------------------------------------------


def changes_by(con, rollup: str, column: str, period: str, previous: str) -> dict[str, float]:
    """Each team's (or model's) change between two periods, from the cost rollups, not the change mart."""
    return dict(
        con.execute(
            f"""select coalesce(now.{column}, before.{column}),
                       coalesce(now.cost, 0) - coalesce(before.cost, 0)
                from (select {column}, sum(effective_cost) as cost from {rollup}
                      where billing_period = ? group by 1) as now
                full outer join (select {column}, sum(effective_cost) as cost from {rollup}
                                 where billing_period = ? group by 1) as before
                using ({column})""",
            [period, previous],
        ).fetchall()
    )


@pytest.mark.parametrize(
    "dimension, rollup",
    [("team", "fct_sagemaker_cost_by_team_monthly"), ("model", "fct_sagemaker_cost_by_model_monthly")],
)
def test_the_growth_drivers_are_the_biggest_movers_of_the_cost_rollups(usd, report, con, dimension, rollup):
    expected = changes_by(con, rollup, dimension, report["billing_period"], report["previous_billing_period"])
    part = usd["growth"][f"by_{dimension}"]
    shown = {d["name"]: d["cost_change"] for d in part["drivers"]}
    assert shown == pytest.approx({name: expected[name] for name in shown}, abs=CENT)
    smallest_shown = min(abs(c) for c in shown.values())
    assert all(abs(c) <= smallest_shown + CENT for name, c in expected.items() if name not in shown)
    assert part["others_count"] == len([c for c in expected.values() if abs(c) > 0]) - len(shown)
    assert sum(shown.values()) + part["others_change"] == pytest.approx(sum(expected.values()), abs=CENT)


def test_growth_adds_up_to_the_totals_change(usd):
    assert usd["growth"]["cost_change"] == pytest.approx(usd["total"]["change"], abs=CENT)


def test_each_drivers_reason_is_its_biggest_component_and_the_components_add_up(usd):
    for dimension in ("team", "model"):
        for driver in usd["growth"][f"by_{dimension}"]["drivers"]:
            components = driver["components"]
            assert sum(components.values()) == pytest.approx(driver["cost_change"], abs=CENT)
            # the component that pushed hardest in the change's direction
            pushing = [c for c in components if components[c] * driver["cost_change"] > 0]
            largest = max(pushing, key=lambda c: abs(components[c]))
            assert driver["driver"] == largest and driver["driver_change"] == components[largest]
            expected_type = "grew" if driver["cost_change"] > 0 else "shrank"
            if driver["previous_cost"] == 0:
                expected_type = "new"
            elif driver["current_cost"] == 0:
                expected_type = "ended"
            assert driver["change_type"] == expected_type


def test_the_first_month_says_there_is_nothing_to_compare(demo_build, report):
    first = report["periods_available"][0]
    data = json.loads(explain(demo_build, "--period", first, "--format", "json"))
    (entry,) = data["currencies"]
    assert data["previous_billing_period"] is None
    assert entry["growth"] == {"previous_billing_period": None, "cost_change": None, "by_team": None, "by_model": None}
    assert entry["total"]["change"] is None and entry["total"]["change_share"] is None
    out = explain(demo_build, "--period", first)
    assert "No growth figures: the marts hold no" in out
    assert "the biggest movers" not in out and "+$" not in out.split("Why it changed")[1].split("Idle")[0]


# --------------------------------------------------------------------------------------------
# Idle and forgotten, hidden cost, tag coverage, actions
# --------------------------------------------------------------------------------------------


def test_shared_endpoints_idle_is_their_idle_allocation(usd, report, con):
    (idle_allocation,) = con.execute(
        "select sum(effective_cost) from fct_sagemaker_cost_allocations where billing_period = ? and model = '__idle__'",
        [report["billing_period"]],
    ).fetchone()
    (single_model_idle,) = con.execute(
        """select coalesce(sum(idle_cost), 0) from fct_sagemaker_endpoint_idle_monthly
           where billing_period = ? and endpoint_mode = 'single_model'""",
        [report["billing_period"]],
    ).fetchone()
    assert usd["idle"]["idle_cost"] == pytest.approx(idle_allocation + single_model_idle, abs=CENT)
    assert usd["idle"]["idle_share_of_total"] == pytest.approx(
        usd["idle"]["idle_cost"] / usd["total"]["effective_cost"]
    )


def test_the_hidden_share_is_the_fully_loaded_facts(usd, report, con):
    line, neighbours = con.execute(
        """select sum(effective_cost) filter (where is_sagemaker_line),
                  sum(effective_cost) filter (where not is_sagemaker_line)
           from fct_sagemaker_fully_loaded_cost where billing_period = ?""",
        [report["billing_period"]],
    ).fetchone()
    hidden = usd["fully_loaded"]
    assert hidden["sagemaker_line_cost"] == pytest.approx(line, abs=CENT)
    assert hidden["sagemaker_line_cost"] == pytest.approx(usd["total"]["effective_cost"], abs=CENT)
    assert hidden["neighbour_cost"] == pytest.approx(neighbours, abs=CENT)
    assert hidden["hidden_share"] == pytest.approx(neighbours / line)


def test_the_tag_gap_is_the_taggable_spend_without_all_four_tags_in_the_bill(usd, report, con):
    (all_four,) = con.execute(
        """select sum(effective_cost) from fct_sagemaker_cost_allocations
           where billing_period = ? and has_all_bill_tags""",
        [report["billing_period"]],
    ).fetchone()
    (taggable,) = con.execute(
        """select taggable_cost from fct_sagemaker_tag_coverage_trend
           where billing_period = ? and dimension = 'team'""",
        [report["billing_period"]],
    ).fetchone()
    gap = usd["tag_coverage"]
    assert gap["all_bill_tags_cost"] == pytest.approx(all_four, abs=CENT)
    assert gap["taggable_cost"] == pytest.approx(taggable, abs=CENT)
    assert gap["gap_cost"] == pytest.approx(taggable - all_four, abs=CENT)
    assert {k["tag_key"] for k in gap["by_key"]} == {"ml:team", "ml:model", "ml:experiment", "ml:environment"}


def test_the_top_actions_are_the_three_largest_opportunities(usd, report, con):
    largest = con.execute(
        """select resource_arn, opportunity_type, monthly_saving from fct_sagemaker_savings_opportunities
           where billing_period = ? order by monthly_saving desc limit 3""",
        [report["billing_period"]],
    ).fetchall()
    (count,) = con.execute(
        "select count(*) from fct_sagemaker_savings_opportunities where billing_period = ?", [report["billing_period"]]
    ).fetchone()
    items = usd["actions"]["items"]
    assert [i["saving_rank"] for i in items] == [1, 2, 3]
    assert [i["monthly_saving"] for i in items] == pytest.approx([s for *_, s in largest], abs=CENT)
    assert usd["actions"]["opportunity_count"] == count


# --------------------------------------------------------------------------------------------
# Against the story the demo planted (<lake>/demo/ground_truth_findings)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def findings(demo_lake, report) -> list[dict[str, Any]]:
    relation = duckdb.sql(
        f"select * from {truth(demo_lake, 'ground_truth_findings')} where billing_period = ?",
        params=[report["billing_period"]],
    )
    return [dict(zip(relation.columns, row, strict=True)) for row in relation.fetchall()]


def found(findings: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    rows = [f for f in findings if f["finding"] == kind]
    assert rows, f"the demo plants no {kind} in the period"
    return rows


def name_of(arn: str) -> str:
    return arn.split("/", 1)[1]


def test_idle_is_the_ground_truths_idle_hours_plus_shared_endpoints_idle_capacity(usd, report, demo_lake, findings):
    (shared_idle,) = duckdb.sql(
        f"select sum(effective_cost) from {truth(demo_lake)} where billing_period = ? and model = '__idle__'",
        params=[report["billing_period"]],
    ).fetchall()[0]
    idle_hours = sum(f["amount"] for f in found(findings, "endpoint_idle"))
    assert usd["idle"]["idle_cost"] == pytest.approx(idle_hours + shared_idle, abs=CENT)
    assert usd["idle"]["unknown_cost"] == pytest.approx(
        sum(f["amount"] for f in found(findings, "endpoint_unknown")), abs=CENT
    )


def test_the_forgotten_endpoints_are_the_ground_truths_with_owner_and_cost(usd, findings):
    expected = {name_of(f["resource_arn"]): f for f in found(findings, "forgotten_endpoint")}
    idle = usd["idle"]
    assert idle["forgotten_count"] == len(expected)
    assert idle["forgotten_cost"] == pytest.approx(sum(f["amount"] for f in expected.values()), abs=CENT)
    assert len(idle["forgotten"]) == min(len(expected), 5)
    for endpoint in idle["forgotten"]:
        planted = expected[endpoint["endpoint_name"]]
        assert endpoint["effective_cost"] == pytest.approx(planted["amount"], abs=CENT)
        assert endpoint["idle_days"] == pytest.approx(planted["quantity"], abs=1)
        assert (endpoint["team"], endpoint["model"], endpoint["environment"]) == (
            planted["team"],
            planted["model"],
            planted["environment"],
        )


def test_notebooks_out_of_hours_and_24_7_are_the_ground_truths(usd, findings):
    idle = usd["idle"]
    assert idle["out_of_hours_cost"] == pytest.approx(
        sum(f["amount"] for f in found(findings, "notebook_after_hours")), abs=CENT
    )
    always_on = sorted(found(findings, "notebook_always_on"), key=lambda f: -f["amount"])
    assert idle["always_on_count"] == len(always_on)
    assert idle["always_on_cost"] == pytest.approx(sum(f["amount"] for f in always_on), abs=CENT)
    listed = [(a["resource_name"], a["effective_cost"]) for a in idle["always_on"]]
    assert (
        listed == [(name_of(f["resource_arn"]), pytest.approx(f["amount"], abs=CENT)) for f in always_on][: len(listed)]
    )


def spot_saving_share() -> float:
    return float(yaml.safe_load((REPO / "dbt_project.yml").read_text())["vars"]["managed_spot_saving_share"])


def true_saving(action: dict[str, Any], findings: list[dict[str, Any]], shared_idle: dict[str, float]) -> float:
    """What the ground truth says the action saves in the period."""
    kind = action["opportunity_type"]
    if kind == "spot_training":  # a model's on-demand jobs that checkpoint, at the managed-spot discount
        jobs = [f for f in found(findings, "spot_candidate") if f["model"] == action["model"]]
        return sum(f["amount"] for f in jobs) * spot_saving_share()
    if kind == "idle_capacity":
        return shared_idle[action["resource_arn"]]
    finding = {
        "notebook_out_of_hours": "notebook_after_hours",
        "forgotten_endpoint": "forgotten_endpoint",
        "over_provisioned_endpoint": "over_provisioned_endpoint",
    }[kind]  # (a new kind at the top of the demo's list: say here what its truth is)
    (planted,) = [f for f in found(findings, finding) if f["resource_arn"] == action["resource_arn"]]
    return planted["amount"]


def test_each_top_action_saves_what_the_ground_truth_says(usd, report, demo_lake, findings):
    shared_idle = dict(
        duckdb.sql(
            f"""select resource_id, sum(effective_cost) from {truth(demo_lake)}
                where billing_period = ? and model = '__idle__' group by 1""",
            params=[report["billing_period"]],
        ).fetchall()
    )
    for action in usd["actions"]["items"]:
        assert action["monthly_saving"] == pytest.approx(true_saving(action, findings, shared_idle), abs=CENT), action


def test_explain_names_every_cause_the_demo_planted(text, usd, findings):
    growth = usd["growth"]
    flat = " ".join(text.split())  # a sentence may wrap anywhere
    for cause in found(findings, "growth_driver"):
        if cause["detail"] == "growing_team":
            assert cause["team"] in [d["name"] for d in growth["by_team"]["drivers"]]
            assert cause["model"] in [d["name"] for d in growth["by_model"]["drivers"]]
            assert f"{cause['model']} / {cause['team']}" in flat
        elif cause["detail"] == "forgotten_staging_endpoints":
            (endpoint,) = [f for f in usd["idle"]["forgotten"] if f["model"] == cause["model"]]
            assert re.search(rf"^  {endpoint['endpoint_name']} +{cause['team']} +{cause['environment']} ", text, re.M)
        elif cause["detail"] == "always_on_notebooks":
            (notebook,) = [a for a in usd["idle"]["always_on"] if a["team"] == cause["team"]]
            assert f"{notebook['resource_name']} ({notebook['instance_type']}, {cause['team']})" in flat
        elif cause["detail"] == "on_demand_training":
            (action,) = [
                a
                for a in usd["actions"]["items"]
                if a["opportunity_type"] == "spot_training" and a["model"] == cause["model"]
            ]
            assert f"spot training: {action['resource_name']}" in flat
        else:
            raise AssertionError(f"a cause explain is not tested for: {cause['detail']}")


# --------------------------------------------------------------------------------------------
# The three formats say the same
# --------------------------------------------------------------------------------------------


def test_every_amount_and_share_the_text_prints_is_a_figure_of_the_json(text, usd):
    values = numbers(usd)
    amounts = {f"{abs(v):,.2f}" for v in values}
    shares = {f"{abs(v) * 100:.1f}" for v in values}
    printed_amounts = re.findall(r"\$([\d,]+\.\d\d)", text)
    printed_shares = re.findall(r"(\d+\.\d)%", text)
    assert printed_amounts and printed_shares
    assert set(printed_amounts) <= amounts
    assert set(printed_shares) <= shares


def test_the_text_prints_the_headline_figures(text, usd, report):
    money = lambda v: f"${v:,.2f}"  # noqa: E731
    total = usd["total"]
    assert f"SageMaker cost {money(total['effective_cost'])} in {report['billing_period']}" in text
    assert f"billed {money(total['billed_cost'])}" in text
    assert (
        f"+{money(total['change'])} (+{total['change_share'] * 100:.1f}%) on {report['previous_billing_period']}"
        in text
    )
    for item in usd["actions"]["items"]:
        assert f"{item['saving_rank']}. {money(item['monthly_saving'])} a month" in text
    assert f"{money(usd['tag_coverage']['gap_cost'])} of {money(usd['tag_coverage']['taggable_cost'])}" in text


def test_the_text_fits_one_screen_of_100_columns(text):
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert len(lines) <= 60


def test_markdown_renders_each_table_with_its_alignment_row(demo_build, text, usd):
    out = explain(demo_build, "--format", "markdown")
    lines = out.splitlines()
    assert lines[0].startswith("## SageMaker bill explained: ")
    separators = [i for i, line in enumerate(lines) if re.fullmatch(r"\|(:---|---:)(\|(:---|---:))*\|", line)]
    assert len(separators) >= 5  # trend, two growth tables, hidden cost, tag keys (forgotten when there are some)
    for i in separators:
        columns = lines[i].count("|")
        assert lines[i - 1].startswith("| ") and lines[i - 1].count("|") == columns  # the header
        assert lines[i - 2] == ""  # a table starts a block
    assert re.findall(r"\$([\d,]+\.\d\d)", out) == re.findall(r"\$([\d,]+\.\d\d)", text)


def test_json_numbers_are_numbers(usd):
    assert isinstance(usd["total"]["effective_cost"], float)
    assert isinstance(usd["actions"]["opportunity_count"], int)
    assert all(isinstance(i["monthly_saving"], float) for i in usd["actions"]["items"])


def test_each_currency_is_explained_on_its_own(demo_build, tmp_path, usd):
    two = tmp_path / "two-currencies.duckdb"
    shutil.copy(demo_build, two)
    with duckdb.connect(str(two)) as con:  # the same teams billed again in EUR, at half the amounts
        con.execute(
            """insert into fct_sagemaker_cost_by_team_monthly
               select * replace ('EUR' as billing_currency, billed_cost / 2 as billed_cost,
                                 effective_cost / 2 as effective_cost)
               from fct_sagemaker_cost_by_team_monthly"""
        )
    data = json.loads(explain(two, "--format", "json"))
    eur, dollars = data["currencies"]
    assert (eur["billing_currency"], dollars) == ("EUR", usd)  # nothing of the euros added to the dollars
    assert eur["total"]["effective_cost"] == pytest.approx(usd["total"]["effective_cost"] / 2)
    assert eur["actions"]["items"] == [] and eur["idle"]["idle_share"] is None  # no EUR rows in those marts
    out = explain(two)
    assert f"SageMaker cost €{eur['total']['effective_cost']:,.2f} in {data['billing_period']}" in out
    assert out.count("SageMaker bill explained: ") == 2 and "(EUR)" in out and "(USD)" in out


def test_the_exposure_lists_exactly_the_marts_explain_reads():
    from smcost.explain import SECTIONS

    exposures = yaml.safe_load((REPO / "models" / "marts" / "sagemaker" / "_exposures.yml").read_text())["exposures"]
    (cli,) = [e for e in exposures if e["name"] == "smcost_explain_cli"]
    refs = {re.fullmatch(r"ref\('(\w+)'\)", d).group(1) for d in cli["depends_on"]}
    assert refs == {mart for section in SECTIONS for mart in section.marts}


# --------------------------------------------------------------------------------------------
# What it cannot answer
# --------------------------------------------------------------------------------------------


def test_an_unknown_period_lists_the_periods_the_marts_hold(demo_build, report):
    result = run_smcost("explain", "--database", str(demo_build), "--period", "2019-01", check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        f"smcost explain: no billing period 2019-01 in {demo_build}; the marts hold "
        f"{', '.join(report['periods_available'])}"
    )


def test_a_build_without_a_mart_names_it_and_says_dbt_build(demo_build, tmp_path):
    older = tmp_path / "older.duckdb"
    shutil.copy(demo_build, older)
    with duckdb.connect(str(older)) as con:
        con.execute("drop table fct_sagemaker_savings_opportunities")
    result = run_smcost("explain", "--database", str(older), check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert "has no fct_sagemaker_savings_opportunities" in result.stderr
    assert "`dbt build --target local`" in result.stderr
