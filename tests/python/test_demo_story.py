"""Specification of the demo account's story (issue 12): the SageMaker bill grows about $29k -> $38k
-> $47k over the three default months, and its causes are in the bill and the landed metadata
exactly as the ground truth of the findings (demo/ground_truth_findings) says.

Every expected figure is recomputed here from the bill rows, the landed metrics and the seeds,
with the definitions the dataset documents (extract/smcost/schemas.py), never from the generator's
code: the findings the generator wrote must equal them.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from smcost.demo import generate
from smcost.schemas import GROUND_TRUTH_FINDINGS

REPO = Path(__file__).resolve().parents[2]
TRAJECTORY = {"2026-08": 29_000, "2026-09": 38_000, "2026-10": 47_000}  # the mission's bill
TOLERANCE = 0.06
FORGOTTEN_DAYS, PEAK_PERCENT = 7, 30.0  # dbt_project.yml: forgotten_endpoint_days, over_provisioned_peak_percent
DATASETS = (
    "endpoints",
    "endpoint_configs",
    "models",
    "endpoint_invocations",
    "endpoint_utilization",
    "inference_components",
    "training_jobs",
    "notebook_instances",
)


def _connect(root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"""
        create view bill as
        select *, substr(SkuMeter, strpos(SkuMeter, '-') + 1) as usage_type,
               strftime(BillingPeriodStart, '%Y-%m') as period
        from read_parquet('{root}/billing/*/data/*/*.parquet')""")
    # SageMaker usage of its own period: what every finding's dollars are made of.
    con.execute("""
        create view usage as
        select * from bill
        where x_ServiceCode = 'AmazonSageMaker' and ChargeCategory = 'Usage' and ChargeClass is null""")
    con.execute("""
        create view host as
        select ResourceId as arn, RegionId as region, period, ChargePeriodStart as hour,
               substr(usage_type, 6) as instance_type, sum(EffectiveCost) as cost
        from usage where usage_type like 'Host:ml.%' group by all""")
    con.execute(f"create view findings as select * from read_parquet('{root}/demo/ground_truth_findings/*.parquet')")
    for name in DATASETS:
        con.execute(f"create view {name} as select * from read_parquet('{root}/sagemaker/{name}/*/*.parquet')")
    con.execute(f"create view capacity as select * from read_csv('{REPO}/seeds/instance_type_capacity.csv')")
    con.execute(
        f"create view prices as select * from read_csv('{REPO}/seeds/sagemaker_instance_prices.csv') "
        "where region = 'us-east-1'"
    )
    # An endpoint's requests each hour: its variant's Invocations and its inference components'.
    con.execute("""
        create view activity as
        select endpoints.endpoint_arn as arn, i.metric_hour_at as hour, sum(i.invocations) as invocations
        from endpoint_invocations as i
        left join inference_components as c
            on i.inference_component_name = c.inference_component_name and i.account_id = c.account_id
        inner join (select distinct account_id, endpoint_name, endpoint_arn from endpoints) as endpoints
            on endpoints.account_id = i.account_id and endpoints.endpoint_name = coalesce(i.endpoint_name, c.endpoint_name)
        where i.metric_dimension in ('variant', 'inference_component')
        group by all""")
    con.execute("""
        create view utilization as
        select endpoints.endpoint_arn as arn, u.*
        from endpoint_utilization as u
        inner join (select distinct account_id, endpoint_name, endpoint_arn from endpoints) as endpoints
            using (account_id, endpoint_name)""")
    # Instance-backed real-time endpoints serving one SageMaker model of mode SingleModel.
    con.execute("""
        create view single_model_endpoints as
        select distinct e.endpoint_arn as arn
        from endpoints as e
        inner join endpoint_configs as c using (account_id, region, endpoint_config_name)
        inner join models as m on m.account_id = c.account_id and m.region = c.region and m.model_name = c.model_name
        where c.instance_type is not null and not c.is_async and m.container_mode = 'SingleModel'""")
    return con


@pytest.fixture(scope="module")
def lake(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("story")
    generate(str(root), seed=42, months=3, start_month="2026-08", scale=1)
    return root


@pytest.fixture(scope="module")
def con(lake):
    with _connect(lake) as connection:
        yield connection


def _findings(con, finding: str) -> dict[tuple, tuple]:
    return {
        (arn, period): (amount, quantity, detail)
        for arn, period, amount, quantity, detail in con.execute(
            "select resource_arn, billing_period, amount, quantity, detail from findings where finding = ?", [finding]
        ).fetchall()
    }


def _by_resource_and_period(rows: list[tuple]) -> dict[tuple, float]:
    return {(resource, period): amount for resource, period, amount in rows}


def _assert_same(found: dict[tuple, tuple], expected: dict[tuple, float]) -> None:
    assert found.keys() == expected.keys()
    for key, amount in expected.items():
        assert found[key][0] == pytest.approx(amount, abs=1e-6), key


# ----------------------------------------------------------------------------------- the bill --


def test_the_sagemaker_bill_grows_29k_38k_47k(con):
    totals = dict(
        con.execute("""select period, sum(EffectiveCost) from bill
                       where x_ServiceCode in ('AmazonSageMaker', 'MachineLearningSavingsPlans') group by 1""").fetchall()
    )
    assert totals.keys() == TRAJECTORY.keys()
    for period, target in TRAJECTORY.items():
        assert abs(totals[period] / target - 1) <= TOLERANCE, (period, totals[period])


def test_the_findings_land_with_exactly_their_schema_and_positive_amounts(lake, con):
    table = pq.read_table(next((lake / "demo" / "ground_truth_findings").glob("*.parquet")))
    assert table.schema.equals(GROUND_TRUTH_FINDINGS.schema)
    kinds = {k for (k,) in con.execute("select distinct finding from findings").fetchall()}
    assert kinds == {
        "endpoint_idle",
        "endpoint_unknown",
        "forgotten_endpoint",
        "notebook_after_hours",
        "notebook_always_on",
        "spot_candidate",
        "over_provisioned_endpoint",
        "growth_driver",
    }
    assert con.execute("select min(amount) from findings").fetchone()[0] > 0


# ------------------------------------------------------------------------------- the causes --


def test_a_growing_team_fine_tunes_more_and_bigger_on_gpus_every_month(con):
    jobs = con.execute("""
        select j.training_job_arn, j.instance_type, j.instance_count, strftime(j.training_start_at, '%Y-%m')
        from training_jobs as j where j.experiment_name = 'support-llm-experiment'""").fetchall()
    per_month: dict[str, list] = defaultdict(list)
    for _, instance, count, month in jobs:
        per_month[month].append((instance, count))
    months = sorted(per_month)
    assert months == sorted(TRAJECTORY)
    assert [len(per_month[m]) for m in months] == sorted(len(per_month[m]) for m in months)  # more jobs
    assert {i for i, _ in per_month[months[-1]]} >= {"ml.p4d.24xlarge"}
    assert max(c for i, c in per_month[months[-1]] if i == "ml.p4d.24xlarge") >= 2  # multi-node by the end
    rates = dict(
        con.execute("""select distinct substr(usage_type, 7), ListUnitPrice from usage
                       where usage_type like 'Train:ml.%' and RegionId = 'us-east-1'""").fetchall()
    )
    assert rates["ml.p4d.24xlarge"] == pytest.approx(37.688)  # on-demand list prices
    assert rates["ml.g5.48xlarge"] == pytest.approx(20.36)
    cost = dict(
        con.execute(
            """select period, sum(EffectiveCost) from usage
               where ResourceId in (select training_job_arn from training_jobs
                                    where experiment_name = 'support-llm-experiment') group by 1"""
        ).fetchall()
    )
    assert all(cost[b] > 1.25 * cost[a] for a, b in pairwise(months))  # grows every month
    found = con.execute(
        "select billing_period, team, model, amount from findings where detail = 'growing_team'"
    ).fetchall()
    assert {(p, t, m) for p, t, m, _ in found} == {(p, "nlp", "support-llm") for p in months}
    for period, _, _, amount in found:
        assert amount == pytest.approx(cost[period], abs=1e-6)


def test_the_growing_team_is_the_biggest_growth_in_the_bill(con):
    by_team = dict(
        con.execute("""
            select Tags['ml:team'] as team,
                   sum(EffectiveCost) filter (where period = '2026-10') - sum(EffectiveCost) filter (where period = '2026-08')
            from usage where Tags['ml:team'] is not null group by 1""").fetchall()
    )
    assert max(by_team, key=by_team.get) == "nlp"


def test_forgotten_staging_endpoints_were_called_a_few_days_in_the_second_month_and_never_again(con):
    staging = con.execute("""
        select endpoint_arn, endpoint_created_at, endpoint_status from endpoints
        where endpoint_name like '%-staging'""").fetchall()
    assert len(staging) >= 2
    for arn, created, status in staging:
        assert status == "InService" and created.strftime("%Y-%m") == "2026-09"
        billed, landed, metered, last_call, last_hour, tags = con.execute(
            """select (select count(*) from host where arn = $1),
                      (select count(*) from activity where arn = $1),
                      (select count(*) from utilization where arn = $1),
                      (select max(hour) from activity where arn = $1 and invocations > 0),
                      (select max(hour) from host where arn = $1),
                      (select any_value(Tags) from usage where ResourceId = $1)""",
            [arn],
        ).fetchone()
        assert billed == landed == metered  # an invocation count (zeros too) and utilisation every hour
        assert 1 <= (last_call - created).days <= 5  # called for a few days after creation
        assert str(last_hour) == "2026-10-31 23:00:00"  # still running at the end
        assert tags["ml:team"]  # its team is knowable


def test_forgotten_endpoints_are_the_ones_quiet_for_seven_days_at_the_period_end(con):
    expected, days = {}, {}
    for arn, period, period_end, cost in con.execute("""
        select arn, period, max(date_trunc('month', hour) + interval 1 month), sum(cost)
        from host where arn in (select arn from utilization) group by 1, 2""").fetchall():
        running, last_call, first_metered = con.execute(
            """select exists(select 1 from host where arn = $1 and hour = $2::timestamp - interval 1 hour),
                      (select max(hour) from activity where arn = $1 and invocations > 0 and hour < $2),
                      (select min(metric_hour_at) from utilization where arn = $1)""",
            [arn, period_end],
        ).fetchone()
        quiet_since = first_metered if last_call is None else last_call + timedelta(hours=1)
        quiet = (period_end - quiet_since).total_seconds() / 86400
        if running and quiet >= FORGOTTEN_DAYS:
            expected[(arn, period)], days[(arn, period)] = cost, quiet
    found = _findings(con, "forgotten_endpoint")
    _assert_same(found, expected)
    for key, quiet in days.items():
        assert found[key][1] == pytest.approx(quiet)
    names = {k[0].rsplit("/", 1)[1] for k in expected}
    assert {"query-embedder-dev", "fraud-gnn-staging"} <= names


def test_idle_hours_are_metered_hours_without_a_call_on_single_model_endpoints(con):
    expected = _by_resource_and_period(
        con.execute("""
            select host.arn, host.period, sum(host.cost)
            from host
            inner join utilization as u on u.arn = host.arn and u.metric_hour_at = host.hour
            left join activity as a on a.arn = host.arn and a.hour = host.hour
            where host.arn in (select arn from single_model_endpoints) and coalesce(a.invocations, 0) = 0
            group by 1, 2""").fetchall()
    )
    _assert_same(_findings(con, "endpoint_idle"), {k: v for k, v in expected.items() if v > 0})
    # The forgotten dev endpoint lands no invocation count at all, yet its utilisation says it is up: idle.
    arn = con.execute(
        "select distinct endpoint_arn from endpoints where endpoint_name = 'query-embedder-dev'"
    ).fetchone()[0]
    assert con.execute("select count(*) from activity where arn = ?", [arn]).fetchone()[0] == 0
    assert {p for a, p in expected if a == arn} == set(TRAJECTORY)


def test_an_endpoint_without_metrics_is_unknown_never_idle(con):
    unknown = con.execute("""
        select arn, period, sum(cost) from host
        where arn in (select arn from single_model_endpoints)
          and arn not in (select arn from utilization) and arn not in (select arn from activity)
        group by 1, 2""").fetchall()
    assert len({a for a, _, _ in unknown}) == 1
    _assert_same(_findings(con, "endpoint_unknown"), _by_resource_and_period(unknown))
    arn = unknown[0][0]
    assert not con.execute(
        "select count(*) from findings where resource_arn = ? and finding <> 'endpoint_unknown'", [arn]
    ).fetchone()[0]


def test_every_instance_backed_endpoint_hour_has_its_utilisation_but_the_unknown_one(con):
    billed = set(con.execute("select arn, hour from host").fetchall())
    metered = set(con.execute("select arn, metric_hour_at from utilization").fetchall())
    unknown = {
        a for (a,) in con.execute("select resource_arn from findings where finding = 'endpoint_unknown'").fetchall()
    }
    assert metered == {(a, h) for a, h in billed if a not in unknown}
    # Busy endpoints peak at 40-90% of a core; the forgotten dev endpoint idles at a few percent;
    # GPU columns only where the capacity seed has GPUs.
    peaks = dict(
        con.execute("""
            select u.endpoint_name, max(u.cpu_utilization_max / capacity.vcpus)
            from utilization as u
            inner join host on host.arn = u.arn and host.hour = u.metric_hour_at
            inner join capacity on capacity.instance_type = host.instance_type group by 1""").fetchall()
    )
    assert 40 <= peaks["search-ranker-prod"] <= 90 and 40 <= peaks["fraud-xgb-prod"] <= 90
    assert peaks["query-embedder-dev"] < 5
    wrong_gpu = con.execute("""
        select count(*) from utilization as u
        inner join host on host.arn = u.arn and host.hour = u.metric_hour_at
        inner join capacity on capacity.instance_type = host.instance_type
        where (capacity.accelerators = 0) <> (u.gpu_utilization_max is null)
           or u.gpu_utilization_max > 100 * capacity.accelerators or u.cpu_utilization_max > 100 * capacity.vcpus
           or u.memory_utilization_max > 100""").fetchone()[0]
    assert wrong_gpu == 0


def test_an_over_provisioned_endpoint_never_reaches_30_percent_and_has_a_next_size_down(con):
    rows = con.execute(f"""
        with peaks as (
            select host.arn, host.period, host.instance_type, any_value(host.region) as region,
                   max(greatest(u.cpu_utilization_max / capacity.vcpus, u.memory_utilization_max,
                                coalesce(u.gpu_utilization_max / nullif(capacity.accelerators, 0), 0),
                                coalesce(u.gpu_memory_utilization_max / nullif(capacity.accelerators, 0), 0))) as peak,
                   any_value(capacity.vcpus) as vcpus
            from host
            inner join utilization as u on u.arn = host.arn and u.metric_hour_at = host.hour
            inner join capacity on capacity.instance_type = host.instance_type
            group by 1, 2, 3
        ),
        smaller as (
            select peaks.arn, peaks.period, peaks.instance_type, c.instance_type as next_size,
                   row_number() over (partition by peaks.arn, peaks.period, peaks.instance_type order by c.vcpus desc) as rank
            from peaks
            inner join capacity as c
                on split_part(c.instance_type, '.', 2) = split_part(peaks.instance_type, '.', 2) and c.vcpus < peaks.vcpus
            where peaks.peak < {PEAK_PERCENT} and peaks.region = 'us-east-1'
        )
        select host.arn, host.period, smaller.next_size,
               sum(host.cost) * (1 - any_value(next.usd_per_hour) / any_value(current.usd_per_hour))
        from smaller
        inner join host using (arn, period, instance_type)
        inner join prices as next on next.instance_type = smaller.next_size
        inner join prices as current on current.instance_type = smaller.instance_type
        where smaller.rank = 1
        group by 1, 2, 3""").fetchall()
    assert rows
    found = _findings(con, "over_provisioned_endpoint")
    _assert_same(found, {(a, p): saving for a, p, _, saving in rows})
    for arn, period, next_size, _ in rows:
        assert found[(arn, period)][2] == next_size


def test_notebooks_left_on_around_the_clock_and_after_hours(con):
    rows = con.execute("""
        select ResourceId, period, max(date_trunc('month', ChargePeriodStart) + interval 1 month) as period_end,
               min(ChargePeriodStart) as first_hour, count(distinct ChargePeriodStart) as hours,
               sum(EffectiveCost) as cost,
               sum(EffectiveCost) filter (where isodow(ChargePeriodStart) >= 6 or hour(ChargePeriodStart) < 8
                                          or hour(ChargePeriodStart) >= 19) as after_cost,
               sum(PricingQuantity) filter (where isodow(ChargePeriodStart) >= 6 or hour(ChargePeriodStart) < 8
                                            or hour(ChargePeriodStart) >= 19) as after_hours
        from usage where usage_type like 'Notebk:%' or usage_type like 'Studio:%' group by 1, 2""").fetchall()
    always_on = {
        (r, p): cost for r, p, end, first, hours, cost, _, _ in rows if hours == (end - first).total_seconds() / 3600
    }
    _assert_same(_findings(con, "notebook_always_on"), always_on)
    after = {(r, p): a for r, p, _, _, _, _, a, _ in rows if a}
    found = _findings(con, "notebook_after_hours")
    _assert_same(found, after)
    for r, p, *_, hours in rows:
        if (r, p) in after:
            assert found[(r, p)][1] == hours
    # The oversized GPU notebooks are on every hour, one of them from the second month on.
    gpu = con.execute("""
        select n.notebook_instance_arn, n.instance_type, n.created_at from notebook_instances as n
        inner join capacity on capacity.instance_type = n.instance_type
        where capacity.accelerators > 0 and n.notebook_instance_status = 'InService'""").fetchall()
    assert {i for _, i, _ in gpu} >= {"ml.g5.12xlarge", "ml.p3.2xlarge"}
    assert any(created.strftime("%Y-%m") == "2026-09" for _, _, created in gpu)
    for arn, _, created in gpu:
        periods = {p for r, p in always_on if r == arn}
        assert periods == {p for p in TRAJECTORY if p >= max(created.strftime("%Y-%m"), "2026-08")}


def test_spot_candidates_are_on_demand_jobs_that_checkpoint(con):
    expected = _by_resource_and_period(
        con.execute("""
            select ResourceId, period, sum(EffectiveCost) from usage
            -- its instance hours, the warm pool's retained ones (TrainWarmPool) included
            where (usage_type like 'Train:ml.%' or usage_type like 'TrainWarmPool:ml.%') and ResourceId in (
                select training_job_arn from training_jobs where not is_managed_spot and checkpoint_s3_uri is not null)
            group by 1, 2""").fetchall()
    )
    found = _findings(con, "spot_candidate")
    _assert_same(found, expected)
    assert {quantity for _, quantity, _ in found.values()} == {1.0}
    flags = con.execute(
        """select bool_or(is_managed_spot), bool_and(checkpoint_s3_uri is not null) from training_jobs
           where training_job_arn in (select resource_arn from findings where finding = 'spot_candidate')"""
    ).fetchone()
    assert flags == (False, True)


def test_growth_drivers_are_the_planted_causes_costs_by_team(con):
    def by_team(resources_sql: str) -> dict[tuple, float]:
        return {
            (period, team): cost
            for period, team, cost in con.execute(f"""
                select u.period, o.team, sum(u.EffectiveCost) from usage as u
                inner join ({resources_sql}) as o on o.arn = u.ResourceId group by 1, 2""").fetchall()
        }

    expected = {
        "forgotten_staging_endpoints": by_team(
            "select distinct endpoint_arn as arn, tags['ml:team'] as team from endpoints where endpoint_name like '%-staging'"
        ),
        "always_on_notebooks": by_team("""
            select notebook_instance_arn as arn, tags['ml:team'] as team from notebook_instances as n
            inner join capacity on capacity.instance_type = n.instance_type
            where capacity.accelerators > 0 and n.notebook_instance_status = 'InService'"""),
        "growing_team": by_team(
            "select training_job_arn as arn, 'nlp' as team from training_jobs where experiment_name = 'support-llm-experiment'"
        ),
        "on_demand_training": by_team("""
            select training_job_arn as arn, 'nlp' as team from training_jobs
            where experiment_name = 'support-llm-experiment' and not is_managed_spot"""),
    }
    for cause, costs in expected.items():
        found = {
            (p, t): a
            for p, t, a in con.execute(
                "select billing_period, team, amount from findings where finding = 'growth_driver' and detail = ?",
                [cause],
            ).fetchall()
        }
        assert found.keys() == costs.keys(), cause
        for key, cost in costs.items():
            assert found[key] == pytest.approx(cost, abs=1e-6), (cause, key)
    # Together (on-demand training is part of the growing team) they are most of the bill's growth.
    bill = dict(
        con.execute("""select period, sum(EffectiveCost) from bill
                       where x_ServiceCode in ('AmazonSageMaker', 'MachineLearningSavingsPlans') group by 1""").fetchall()
    )
    planted = defaultdict(float)
    for cause in ("growing_team", "forgotten_staging_endpoints", "always_on_notebooks"):
        for (period, _), cost in expected[cause].items():
            planted[period] += cost
    assert planted["2026-10"] - planted["2026-08"] >= 0.6 * (bill["2026-10"] - bill["2026-08"])


def test_scale_2_doubles_every_resource_finding_and_sums_the_growth_drivers(lake, tmp_path):
    generate(str(tmp_path), seed=42, months=3, start_month="2026-08", scale=2)
    with _connect(lake) as one, _connect(tmp_path) as two:
        query = """select finding, billing_period, resource_arn is null, count(*), sum(amount) from findings
                   group by all order by all"""
        single, double = one.execute(query).fetchall(), two.execute(query).fetchall()
        resources = "select distinct resource_arn from findings where resource_arn is not null"
        arns, arns_2 = set(one.execute(resources).fetchall()), set(two.execute(resources).fetchall())
    assert [r[:3] for r in single] == [r[:3] for r in double]
    for (_, _, is_team, rows, amount), (_, _, _, rows_2, amount_2) in zip(single, double, strict=True):
        assert rows_2 == (rows if is_team else 2 * rows)
        assert amount_2 == pytest.approx(2 * amount)
    assert arns < arns_2 and len(arns_2) == 2 * len(arns)  # the first replica's, and as many of its own
