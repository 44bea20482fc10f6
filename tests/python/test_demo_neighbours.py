"""Specification of the demo account's neighbours of SageMaker (S3, ECR, CloudWatch, EFS, FSx, data
transfer, NAT): what the extractor lands agrees with what the bill charges, and the ground truth
owns every in-scope neighbour dollar, shared the way the landed metadata says.

Prices are AWS's public us-east-1 list prices, written here independently of the generator.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import duckdb
import pytest

from smcost.demo import generate

SAGEMAKER_SCOPE = ("AmazonSageMaker", "MachineLearningSavingsPlans")
NEIGHBOURS = ("AmazonS3", "AmazonECR", "AmazonCloudWatch", "AWSDataTransfer", "AmazonEFS", "AmazonFSx", "AmazonEC2")
GIB = 2**30
S3_PRICES = {"STANDARD": ("TimedStorage-ByteHrs", 0.023), "STANDARD_IA": ("TimedStorage-SIA-ByteHrs", 0.0125)}
ECR_PRICE, LOG_STORAGE_PRICE = 0.10, 0.03
FLAGSHIPS = ("search-ranker", "nlp-summarizer", "fraud-xgb")
LAKES = {
    "default": dict(seed=42, months=3, start_month="2026-08", focus_version="1.2"),
    "other_seed": dict(seed=4, months=3, start_month="2026-08", focus_version="1.2"),
    "focus_1_0": dict(seed=42, months=4, start_month="2025-11", focus_version="1.0"),
}


@pytest.fixture(scope="module", params=list(LAKES))
def con(request, tmp_path_factory):
    root = tmp_path_factory.mktemp(f"neighbours-{request.param}")
    generate(str(root), **LAKES[request.param])
    usage = "SkuMeter" if LAKES[request.param]["focus_version"] == "1.2" else "x_UsageType"
    with duckdb.connect() as connection:
        connection.execute(f"""
            create view bill as
            select *, {usage} as usage_type,
                   date_diff('hour', BillingPeriodStart, BillingPeriodEnd) as month_hours
            from read_parquet('{root}/billing/*/data/*/*.parquet')""")
        connection.execute(f"create view truth as select * from read_parquet('{root}/demo/ground_truth/*.parquet')")
        for name in ("s3_artifacts", "ecr_images", "log_groups", "training_jobs", "processing_jobs", "transform_jobs"):
            connection.execute(
                f"create view {name} as select * from read_parquet('{root}/sagemaker/{name}/*/*.parquet')"
            )
        yield connection


def _bytes(quantity: float, month_hours: int) -> float:
    """Bytes stored all day from a day's GB-month quantity: quantity x hours in the month / 24 x 2^30."""
    return quantity * month_hours / 24 * GIB


def _nobody_share(con, resource: str, usage_type: str) -> dict[datetime, float]:
    return dict(
        con.execute(
            """select charge_period_start, sum(share) from truth
               where resource_id = ? and usage_type = ? and model is null and team is null group by 1""",
            [resource, usage_type],
        ).fetchall()
    )


def test_s3_bills_each_day_the_landed_bytes_of_that_day_plus_bytes_under_no_sagemaker_prefix(con):
    landed = con.execute("""
        select bucket, storage_class, last_modified_day, sum(size_bytes) from s3_artifacts group by all""").fetchall()
    by_bucket = defaultdict(list)
    for bucket, storage_class, day, size in landed:
        by_bucket[(bucket, storage_class)].append((day, size))
    checked = 0
    for (bucket, storage_class), objects in by_bucket.items():
        usage_type, price = S3_PRICES[storage_class]
        rows = con.execute(
            """select ChargePeriodStart, PricingQuantity, month_hours, ListUnitPrice, ListCost, usage_type from bill
               where x_ServiceCode = 'AmazonS3' and ResourceId = ? and usage_type like ?""",
            [bucket, f"%-{usage_type}"],
        ).fetchall()
        assert rows, (bucket, storage_class)
        nobody = _nobody_share(con, bucket, rows[0][5])
        landed_cost = defaultdict(float)
        rest_cost = defaultdict(float)
        bill_cost = defaultdict(float)
        for day, quantity, hours, unit_price, cost, _ in rows:
            assert unit_price == price
            stored = sum(size for modified, size in objects if modified <= day)
            billed = _bytes(quantity, hours)
            rest = billed - stored
            assert rest >= -1.0, (bucket, day)  # never less than what the extractor lists
            # The bytes under no SageMaker prefix are the ground truth's share of nobody.
            assert nobody.get(day, 0.0) == pytest.approx(max(rest, 0) / billed, abs=1e-9), (bucket, day)
            month = day.strftime("%Y-%m")
            landed_cost[month] += stored / GIB * 24 / hours * price
            rest_cost[month] += rest / GIB * 24 / hours * price
            bill_cost[month] += cost
        for month, cost in bill_cost.items():
            assert landed_cost[month] + rest_cost[month] == pytest.approx(cost, abs=1e-6)
            assert rest_cost[month] < cost
        checked += 1
    assert checked >= 5  # two features buckets in two classes, two artifacts buckets


def test_a_referenced_bucket_the_extractor_could_not_list_is_billed_and_its_owner_unknowable(con):
    unlisted = con.execute("""
        with referenced as (
            select distinct split_part(replace(uri, 's3://', ''), '/', 1) as bucket
            from training_jobs, unnest(input_s3_uris) as u(uri))
        select bucket from referenced where bucket not in (select bucket from s3_artifacts)""").fetchall()
    assert unlisted
    for (bucket,) in unlisted:
        cost, knowable = con.execute(
            "select sum(effective_cost), bool_or(is_knowable) from truth where resource_id = ?", [bucket]
        ).fetchone()
        assert cost > 0 and not knowable


def test_a_bucket_no_sagemaker_work_references_is_billed_but_outside_the_ground_truth(con):
    outside = con.execute("""
        select distinct ResourceId from bill where x_ServiceCode = 'AmazonS3'
        except select bucket from s3_artifacts
        except select split_part(replace(uri, 's3://', ''), '/', 1) from training_jobs, unnest(input_s3_uris) as u(uri)
        """).fetchall()
    assert outside
    for (bucket,) in outside:
        assert con.execute("select count(*) from truth where resource_id = ?", [bucket]).fetchone() == (0,)


def test_training_data_is_tb_scale_and_one_dataset_is_an_input_channel_of_several_models(con):
    shared = con.execute("""
        select uri, count(distinct split_part(output_s3_uri, '/', 4)) as models
        from training_jobs, unnest(input_s3_uris) as u(uri) group by uri having models >= 2""").fetchall()
    assert shared
    sizes = con.execute("""
        select bucket, sum(size_bytes) / 2^40 from s3_artifacts where bucket like 'acme-ml-features-%' group by 1
        """).fetchall()
    assert len(sizes) == 2 and all(tib >= 1 for _, tib in sizes), sizes


def test_a_big_fine_tune_writes_more_than_10_gb_per_run(con):
    per_run = con.execute("""
        select j.training_job_name, sum(a.size_bytes) / 2^30 as gb
        from training_jobs as j
        inner join s3_artifacts as a
            on 's3://' || a.bucket || '/' || a.key_or_prefix in (j.model_artifact_s3_uri, j.checkpoint_s3_uri)
        group by 1""").fetchall()
    assert max(gb for _, gb in per_run) > 10


def test_ecr_bills_each_day_the_bytes_of_every_image_pushed_by_then(con):
    images = con.execute("select repository_arn, size_bytes, pushed_at, image_uri from ecr_images").fetchall()
    assert any(uri is None for *_, uri in images)  # old builds nothing references
    by_repo = defaultdict(list)
    for repository, size, pushed, _ in images:
        by_repo[repository].append((size, pushed))
    for repository, repo_images in by_repo.items():
        rows = con.execute(
            """select ChargePeriodStart, PricingQuantity, month_hours, ListCost from bill
               where x_ServiceCode = 'AmazonECR' and ResourceId = ?""",
            [repository],
        ).fetchall()
        assert rows, repository
        landed_cost, bill_cost = defaultdict(float), defaultdict(float)
        for day, quantity, hours, cost in rows:
            stored = sum(size for size, pushed in repo_images if pushed <= day)
            assert _bytes(quantity, hours) == pytest.approx(stored, rel=1e-9), (repository, day)
            landed_cost[day.strftime("%Y-%m")] += stored / GIB * 24 / hours * ECR_PRICE
            bill_cost[day.strftime("%Y-%m")] += cost
        for month, cost in bill_cost.items():
            assert landed_cost[month] == pytest.approx(cost, abs=1e-6), (repository, month)
    several_gb = con.execute("""
        select repository_name, sum(size_bytes) / 2^30 from ecr_images where repository_name like '%-serve%'
        group by 1""").fetchall()
    assert several_gb and all(gb >= 3 for _, gb in several_gb)


def test_a_log_group_stores_on_the_extraction_day_what_the_extractor_lands(con):
    groups = con.execute("select log_group_arn, stored_bytes, region from log_groups").fetchall()
    assert len(groups) >= 6
    for resource, stored, region in groups:
        multiplier = {"us-east-1": 1.0, "eu-west-1": 1.12}[region]
        quantity, hours, price = con.execute(
            """select PricingQuantity, month_hours, ListUnitPrice from bill
               where ResourceId = ? and usage_type like '%TimedStorage-ByteHrs' order by ChargePeriodStart desc limit 1""",
            [resource],
        ).fetchone()
        assert _bytes(quantity, hours) == pytest.approx(stored, rel=1e-9), resource
        assert price == pytest.approx(LOG_STORAGE_PRICE * multiplier)


def test_busy_endpoints_log_gigabytes_a_day(con):
    gb = con.execute("""
        select max(PricingQuantity) from bill
        where ResourceId like '%log-group:/aws/sagemaker/Endpoints/%' and usage_type like '%DataProcessing-Bytes'
        """).fetchone()[0]
    assert gb > 5


def test_neighbour_ground_truth_shares_sum_to_one_for_every_row_it_covers(con):
    bad = con.execute("""
        with shares as (
            select billing_period, sub_account_id, resource_id, charge_period_start, usage_type, sum(share) as share
            from truth where service_code not in ('AmazonSageMaker', 'MachineLearningSavingsPlans') group by all)
        select count(*), count(*) filter (where abs(share - 1) > 1e-9) from shares""").fetchone()
    assert bad[0] > 0 and bad[1] == 0


def test_every_in_scope_neighbour_dollar_has_a_true_owner(con):
    """The bill's neighbour cost is the truth's plus exactly the two things outside the scope: the data
    lake bucket and the plain EC2 instance."""
    billed = dict(
        con.execute(f"""
            select strftime(BillingPeriodStart, '%Y-%m'), sum(EffectiveCost) from bill
            where x_ServiceCode in {NEIGHBOURS}
              and coalesce(ResourceId, '') not like 'acme-data-lake%' and usage_type not like '%BoxUsage%'
            group by 1""").fetchall()
    )
    truth = dict(
        con.execute(
            f"select billing_period, sum(effective_cost) from truth where service_code in {NEIGHBOURS} group by 1"
        ).fetchall()
    )
    assert billed.keys() == truth.keys()
    for period, cost in billed.items():
        assert truth[period] == pytest.approx(cost, abs=1e-6), period
    evidence = {
        e for (e,) in con.execute(f"select distinct evidence from truth where service_code in {NEIGHBOURS}").fetchall()
    }
    assert evidence <= {"metadata", "bill_tag", "rule", "none"} and {"metadata", "bill_tag", "rule"} <= evidence


def test_the_flagship_models_neighbours_cost_15_to_30_percent_of_their_sagemaker_line(con):
    ratios = dict(
        con.execute(f"""
            select model,
                   sum(effective_cost) filter (where service_code not in {SAGEMAKER_SCOPE})
                   / sum(effective_cost) filter (where service_code in {SAGEMAKER_SCOPE})
            from truth where model is not null and model <> '__idle__' group by 1""").fetchall()
    )
    for model in FLAGSHIPS:
        assert 0.15 <= ratios[model] <= 0.30, (model, ratios[model])
    assert min(ratios.values()) < 0.08  # and it varies: some models' neighbours are a few percent


def test_a_shared_dataset_is_split_across_its_models_by_their_training_hours_each_month(con):
    """A day of the shared clickstream bucket: each model's share of the dataset's bytes follows its
    jobs' billed compute hours in the month (independently recomputed from the bill)."""
    bucket, key = con.execute("""
        select split_part(replace(uri, 's3://', ''), '/', 1), substr(uri, 6 + length(split_part(replace(uri, 's3://', ''), '/', 1)) + 1)
        from training_jobs, unnest(input_s3_uris) as u(uri)
        where uri like '%clickstream%' and account_id = '111122223333' limit 1""").fetchone()
    hours = dict(
        con.execute(
            """select split_part(j.output_s3_uri, '/', 4), sum(b.PricingQuantity)
               from bill as b inner join training_jobs as j on b.ResourceId = j.training_job_arn
               where b.ConsumedUnit in ('Hrs', 'Hours') and b.ChargeCategory = 'Usage'
                 and list_contains(j.input_s3_uris, ?) and strftime(b.BillingPeriodStart, '%Y-%m') = '2026-09'
               group by 1""",
            [f"s3://{bucket}/{key}"],
        ).fetchall()
    )
    if not hours:
        pytest.skip("this lake has no September")
    day = datetime(2026, 9, 15)
    dataset = con.execute(
        """select sum(size_bytes) from s3_artifacts where bucket = ? and key_or_prefix = ?
           and storage_class = 'STANDARD' and last_modified_day <= ?""",
        [bucket, key, day],
    ).fetchone()[0]
    quantity, month_hours = con.execute(
        """select PricingQuantity, month_hours from bill where ResourceId = ? and usage_type like '%-TimedStorage-ByteHrs'
           and ChargePeriodStart = ?""",
        [bucket, day],
    ).fetchone()
    fraction = dataset / _bytes(quantity, month_hours)
    truth = dict(
        con.execute(
            """select model, sum(share) from truth where resource_id = ? and usage_type like '%-TimedStorage-ByteHrs'
               and charge_period_start = ? group by 1""",
            [bucket, day],
        ).fetchall()
    )
    total = sum(hours.values())
    assert len(hours) >= 2
    for model, h in hours.items():  # these models read nothing else from the bucket
        assert truth[model] == pytest.approx(fraction * h / total, abs=1e-9), model
