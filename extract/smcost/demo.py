"""Generate a realistic demo SageMaker account: the FOCUS bill, the landed metadata, the truth.

Writes, under --out (the lake root):
  billing/sagemaker-focus/data/BILLING_PERIOD=YYYY-MM/*.parquet   FOCUS 1.2 (or 1.0) with AWS columns
  sagemaker/<dataset>/extract_date=YYYY-MM-DD/*.parquet            the extractor's datasets
  demo/ground_truth/*.parquet                                      the true owner of every dollar

Deterministic for a given --seed. --scale N replicates the scenario N times (names suffixed -rK),
streaming each replica to disk so memory stays flat however many rows are written.

The scenario: two accounts (production, development) in two regions, six teams, thirteen models;
on-demand, spot, heterogeneous, HPO and warm-pool training; real-time endpoints that scale, one
deleted and re-created under the same name; a multi-model endpoint with uneven traffic; an
inference-component endpoint; serverless and async endpoints; batch transform; processing under a
data-prep role; idle notebooks; Studio apps; storage and data transfer; S3, ECR, CloudWatch and a
plain EC2 g5 instance beside them; a Machine Learning Savings Plan; a credit, a refund, tax and a
correction restating an earlier period. Tags as in real life: some complete, some drifting, some
only on the API side, some missing.
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa

from smcost import lake
from smcost.schemas import DATASETS, GROUND_TRUTH, USAGE_TYPE_COLUMN, focus_schema

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# The bucket the demo pretends AWS Data Exports delivers to (manifests name files as s3:// URIs).
DEMO_EXPORT_BUCKET = "acme-payer-billing-exports"

PAYER = ("999988887777", "acme-payer")
ACCOUNTS = {
    "prod": ("111122223333", "acme-ml-prod", "production"),
    "dev": ("444455556666", "acme-ml-dev", "development"),
}
REGIONS = {
    "us-east-1": ("USE1", "US East (N. Virginia)", 1.0),
    "eu-west-1": ("EU", "Europe (Ireland)", 1.12),
}
# On-demand $/hour in us-east-1 for the SageMaker instance types the scenario uses.
PRICES = {
    "ml.t3.medium": 0.05, "ml.t3.xlarge": 0.20, "ml.m5.xlarge": 0.23, "ml.m5.2xlarge": 0.461,
    "ml.m5.4xlarge": 0.922, "ml.c5.2xlarge": 0.408, "ml.c5.4xlarge": 0.816, "ml.g4dn.xlarge": 0.7364,
    "ml.g5.xlarge": 1.408, "ml.g5.2xlarge": 1.515, "ml.g5.12xlarge": 7.09, "ml.p3.2xlarge": 3.825,
}
SPOT_DISCOUNT = 0.30          # spot price = 30% of on-demand
SP_RATE = 0.64                # Savings Plan rate = 64% of on-demand
SP_HOURLY_COMMITMENT = 1.00   # $/hour
TEAMS = ["fraud", "search", "recsys", "vision", "growth", "nlp"]
MODELS = {  # model -> (team, training instance, training hours range)
    "fraud-xgb": ("fraud", "ml.m5.4xlarge", (1, 4)),
    "fraud-gnn": ("fraud", "ml.g5.2xlarge", (3, 8)),
    "search-ranker": ("search", "ml.g5.2xlarge", (2, 6)),
    "query-embedder": ("search", "ml.p3.2xlarge", (4, 10)),
    "recsys-two-tower": ("recsys", "ml.g5.12xlarge", (3, 7)),
    "recsys-reranker": ("recsys", "ml.g5.2xlarge", (2, 5)),
    "vision-classifier": ("vision", "ml.p3.2xlarge", (3, 9)),
    "vision-ocr": ("vision", "ml.g5.xlarge", (2, 6)),
    "churn-predictor": ("growth", "ml.m5.xlarge", (1, 3)),
    "ltv-model": ("growth", "ml.m5.xlarge", (1, 3)),
    "price-forecaster": ("growth", "ml.m5.2xlarge", (1, 4)),
    "nlp-summarizer": ("nlp", "ml.g5.12xlarge", (4, 9)),
    "nlp-sentiment": ("nlp", "ml.g5.xlarge", (2, 5)),
}
GENERIC_ROLE = "AmazonSageMaker-ExecutionRole-20250101T000000"
SP_ARN = f"arn:aws:savingsplans::{PAYER[0]}:savingsplan/6f1c0a2e-demo-4ml0-9sp0-000000000001"

# How each training job's tags look, with the share of jobs drawn from each profile.
TAG_PROFILES = [("bill", 0.55), ("drift", 0.10), ("api_only", 0.10), ("experiment", 0.10),
                ("rule", 0.10), ("none", 0.05)]


@dataclass(frozen=True)
class Owner:
    model: str | None
    team: str | None
    experiment: str | None
    environment: str | None
    evidence: str  # bill_tag | api_tag | metadata | rule | none

    @property
    def is_knowable(self) -> bool:
        return self.evidence != "none"


@dataclass
class Block:
    """Rows that share everything but their hour and quantity: one resource x usage type."""

    scalars: dict
    start_ms: np.ndarray
    quantity: np.ndarray
    duration_ms: int = HOUR_MS
    # (owner, per-row share or None for 1.0); shares sum to 1 on every row
    owners: list[tuple[Owner, np.ndarray | None]] = field(default_factory=list)
    billing_period_ms: int | None = None  # set for corrections booked in a later period
    unknowable: np.ndarray | None = None  # rows whose true split no metric reveals


def _ms(dt: datetime) -> int:
    return int(dt.replace(tzinfo=timezone.utc).timestamp() * 1000)


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).replace(tzinfo=None)


def _month_starts(start: str, months: int) -> list[int]:
    year, month = map(int, start.split("-"))
    out = []
    for i in range(months + 1):
        y, m = year + (month - 1 + i) // 12, (month - 1 + i) % 12 + 1
        out.append(_ms(datetime(y, m, 1)))
    return out


def _hex(*parts: object, n: int = 8) -> str:
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:n]


class Scenario:
    """One replica of the demo account. `replica` 0 uses plain names; others get a -rK suffix."""

    def __init__(self, seed: int, replica: int, start_month: str, months: int):
        # Every replica draws the same numbers: --scale N is exactly N copies, differing only in names.
        self.rng = np.random.default_rng(seed)
        self.sfx = "" if replica == 0 else f"-r{replica}"
        self.months = _month_starts(start_month, months)
        self.t0, self.t1 = self.months[0], self.months[-1]
        self.blocks: list[Block] = []
        self.meta: dict[str, list[dict]] = {name: [] for name in DATASETS}
        self.extracted_at = _dt(self.t1 - HOUR_MS)
        self.sp_hours: tuple[np.ndarray, np.ndarray] = (np.array([], dtype=np.int64), np.array([]))

    # ---------------------------------------------------------------- helpers
    def arn(self, acct: str, region: str, kind: str, name: str) -> str:
        return f"arn:aws:sagemaker:{region}:{ACCOUNTS[acct][0]}:{kind}/{name.lower()}"

    def role(self, acct: str, name: str) -> str:
        return f"arn:aws:iam::{ACCOUNTS[acct][0]}:role/{name}"

    def env(self, acct: str) -> str:
        return ACCOUNTS[acct][2]

    def meta_row(self, dataset: str, acct: str, region: str, **values) -> None:
        self.meta[dataset].append(
            {"account_id": ACCOUNTS[acct][0], "region": region, "extracted_at": self.extracted_at, **values}
        )

    @staticmethod
    def tags_for(profile: str, model: str | None, team: str, experiment: str | None, env: str) -> tuple[dict, dict]:
        """(tags in the bill, tags on the API side) for a tagging profile."""
        full = {"ml:team": team, "ml:environment": env}
        if model:
            full["ml:model"] = model
        if experiment:
            full["ml:experiment"] = experiment
        if profile == "bill":
            return full, full
        if profile == "drift":  # key drift and sloppy values: still the same owner
            drift = {"ML:Team": team.capitalize() + " ", "environment": env}
            if model:
                drift["model"] = model
            if experiment:
                drift["ML:Experiment"] = experiment
            return drift, drift
        if profile == "api_only":  # tags exist but are not activated for cost allocation
            return {}, full
        return {}, {}

    def usage_block(self, acct: str, region: str, resource_arn: str | None, usage: str, service: str,
                    start_ms: np.ndarray, quantity: np.ndarray, unit: str, list_rate: float,
                    bill_tags: dict, owners: list[tuple[Owner, np.ndarray | None]], *,
                    pricing: str = "Standard", billed_rate: float | None = None,
                    effective_rate: float | None = None, category: str = "Usage",
                    charge_class: str | None = None, frequency: str = "Usage-Based",
                    description: str | None = None, operation: str = "RunInstance",
                    commitment: dict | None = None, billing_period_ms: int | None = None,
                    duration_ms: int = HOUR_MS, unknowable: np.ndarray | None = None) -> None:
        code, region_name, _ = REGIONS[region]
        acct_id, acct_name, _ = ACCOUNTS[acct]
        billed = list_rate if billed_rate is None else billed_rate
        effective = billed if effective_rate is None else effective_rate
        service_name, service_category, subcategory = SERVICES[service]
        scalars = {
            "BillingAccountId": PAYER[0], "BillingAccountName": PAYER[1], "BillingAccountType": "Billing Account",
            "BillingCurrency": "USD", "PricingCurrency": "USD",
            "ChargeCategory": category, "ChargeClass": charge_class, "ChargeFrequency": frequency,
            "ChargeDescription": description or f"${list_rate:g} per {unit} for {usage} in {region_name}",
            "CommitmentDiscountCategory": None, "CommitmentDiscountId": None, "CommitmentDiscountName": None,
            "CommitmentDiscountStatus": None, "CommitmentDiscountType": None,
            "CommitmentDiscountUnit": None,
            "ConsumedUnit": unit, "PricingUnit": unit, "PricingCategory": pricing,
            "InvoiceIssuerName": "Amazon Web Services, Inc.", "ProviderName": "AWS",
            "PublisherName": "Amazon Web Services, Inc.",
            "RegionId": region, "RegionName": region_name, "ResourceId": resource_arn,
            "ServiceName": service_name, "ServiceCategory": service_category, "ServiceSubcategory": subcategory,
            "SkuId": _hex(usage, service).upper()[:12], "SkuPriceId": _hex(usage, pricing, list_rate).upper()[:16],
            "SkuMeter": f"{code}-{usage}" if usage else None,
            "SubAccountId": acct_id, "SubAccountName": acct_name, "SubAccountType": "AWS Account",
            "Tags": list(bill_tags.items()),
            "x_Operation": operation, "x_ServiceCode": service,
            "_list": list_rate, "_billed": billed, "_effective": effective,
        }
        if commitment:
            scalars.update(commitment)
        self.blocks.append(Block(scalars, np.asarray(start_ms, dtype=np.int64), np.asarray(quantity, dtype=np.float64),
                                 duration_ms, owners, billing_period_ms, unknowable))

    def hours(self, start_ms: int, end_ms: int) -> np.ndarray:
        start = max(start_ms, self.t0) // HOUR_MS * HOUR_MS
        return np.arange(start, min(end_ms, self.t1), HOUR_MS, dtype=np.int64)

    def days(self, start_ms: int, end_ms: int) -> np.ndarray:
        start = max(start_ms, self.t0) // DAY_MS * DAY_MS
        return np.arange(start, min(end_ms, self.t1), DAY_MS, dtype=np.int64)

    @staticmethod
    def overlap_hours(hours: np.ndarray, start_ms: int, end_ms: int) -> np.ndarray:
        """Fraction of each hour inside [start, end)."""
        lo = np.maximum(hours, start_ms)
        hi = np.minimum(hours + HOUR_MS, end_ms)
        return np.clip(hi - lo, 0, None) / HOUR_MS

    # ---------------------------------------------------------------- the account
    def build(self) -> "Scenario":
        self.experiments_and_trials()
        self.training()
        self.processing_and_transform()
        self.endpoints()
        self.notebooks_and_studio()
        self.commitments_and_adjustments()
        self.neighbours()
        return self

    def experiment_name(self, model: str) -> str:
        return f"{model}-experiment{self.sfx}"

    def experiments_and_trials(self) -> None:
        for model, (team, _, _) in MODELS.items():
            name = self.experiment_name(model)
            # Experiments carry API-side tags: the link that resolves untagged jobs run inside them.
            # Experiments are per account: development runs and production retrains each have one.
            for acct in ("dev", "prod"):
                self.meta_row("experiments", acct, "us-east-1",
                              experiment_arn=self.arn(acct, "us-east-1", "experiment", name), experiment_name=name,
                              created_at=_dt(self.t0 - 30 * DAY_MS), tags={"ml:team": team, "ml:model": model})

    def training(self) -> None:
        rng = self.rng
        profiles, weights = zip(*TAG_PROFILES)
        for m_index, month in enumerate(self.months[:-1]):
            month_end = self.months[m_index + 1]
            for model, (team, instance, (h_lo, h_hi)) in MODELS.items():
                experiment = self.experiment_name(model)
                trial = f"{model}-trial-{_dt(month):%Y%m}{self.sfx}"
                for acct in ("dev", "prod"):
                    self.meta_row("trials", acct, "us-east-1",
                                  trial_arn=self.arn(acct, "us-east-1", "experiment-trial", trial), trial_name=trial,
                                  experiment_name=experiment, created_at=_dt(month), tags={})
                for k in range(4):
                    profile = str(rng.choice(profiles, p=weights))
                    acct = "prod" if k == 3 else "dev"  # the monthly retrain runs in production
                    start = month + int(rng.integers(0, (month_end - month) // HOUR_MS - 24)) * HOUR_MS + int(rng.integers(0, 60)) * 60_000
                    seconds = int(rng.uniform(h_lo, h_hi) * 3600)
                    spot = bool(rng.random() < 0.4)
                    billable = int(seconds * rng.uniform(0.55, 0.85)) if spot else seconds
                    count = int(rng.choice([1, 1, 2]))
                    name = f"{model}-train-{_dt(start):%Y%m%d-%H%M}-{k}{self.sfx}"
                    if profile == "none":
                        name = f"untitled-job-{_hex(model, start, self.sfx)}"
                    in_experiment = profile in ("bill", "drift", "api_only", "experiment")
                    warm_pool = 7200 if (model == "fraud-gnn" and k == 0) else 0
                    self.training_job(acct, "us-east-1", name, model, team, instance, count, start, seconds, billable,
                                      spot, profile, experiment if in_experiment else None,
                                      trial if in_experiment else None, warm_pool=warm_pool)
            self.heterogeneous_job(month)
            self.tuning_job(month)

    def training_job(self, acct: str, region: str, name: str, model: str, team: str, instance: str | None,
                     count: int, start: int, seconds: int, billable: int, spot: bool, profile: str,
                     experiment: str | None, trial: str | None, *, groups: list[tuple[str, str, int]] | None = None,
                     tuning_job_arn: str | None = None, warm_pool: int = 0, owner: Owner | None = None) -> None:
        env = self.env(acct)
        arn = self.arn(acct, region, "training-job", name)
        bill_tags, api_tags = self.tags_for(profile, model, team, experiment, env)
        role = GENERIC_ROLE if profile == "none" else f"{team}-sagemaker-training"
        evidence = {"bill": "bill_tag", "drift": "bill_tag", "api_only": "api_tag", "experiment": "metadata",
                    "rule": "rule", "none": "none"}[profile]
        owner = owner or Owner(model, team, experiment, env, evidence)
        end = start + seconds * 1000
        groups = groups or [("main", instance, count)]
        for _, g_instance, g_count in groups:
            hours = self.hours(start, end)
            # Spot bills only the billable seconds: spread them evenly over the hours the job ran.
            frac = self.overlap_hours(hours, start, end) * (billable / seconds) * g_count
            if warm_pool and not spot:
                # Warm-pool retained time bills as the same usage type: one bill line per hour, so
                # the hour the job ends carries both its last compute and the pool's first minutes.
                wp_hours = self.hours(end, end + warm_pool * 1000)
                merged = np.union1d(hours, wp_hours)
                quantity = np.zeros(len(merged))
                np.add.at(quantity, np.searchsorted(merged, hours), frac)
                np.add.at(quantity, np.searchsorted(merged, wp_hours),
                          self.overlap_hours(wp_hours, end, end + warm_pool * 1000) * g_count)
                hours, frac = merged, quantity
            usage = f"TrSpt:{g_instance}" if spot else f"Train:{g_instance}"
            rate = PRICES[g_instance] * REGIONS[region][2]
            self.usage_block(acct, region, arn, usage, "AmazonSageMaker", hours, frac, "Hrs", rate, bill_tags,
                             [(owner, None)], pricing="Dynamic" if spot else "Standard",
                             billed_rate=rate * SPOT_DISCOUNT if spot else None, operation="Training")
            if warm_pool and spot:  # a spot job's pool bills on-demand: its own Train: line
                wp_hours = self.hours(end, end + warm_pool * 1000)
                self.usage_block(acct, region, arn, f"Train:{g_instance}", "AmazonSageMaker", wp_hours,
                                 self.overlap_hours(wp_hours, end, end + warm_pool * 1000) * g_count, "Hrs", rate,
                                 bill_tags, [(owner, None)], operation="Training",
                                 description=f"Warm pool retained {g_instance}")
        # The training volume: ML storage, GB-months pro-rated to the job's duration.
        gb_month = 50 * sum(g[2] for g in groups) * seconds / (730 * 3600)
        self.usage_block(acct, region, arn, "Train:VolumeUsage.gp2", "AmazonSageMaker", [start // HOUR_MS * HOUR_MS],
                         [gb_month], "GB-Mo", 0.14, bill_tags, [(owner, None)], operation="Training")
        self.meta_row(
            "training_jobs", acct, region, training_job_arn=arn, training_job_name=name,
            training_job_status="Completed", created_at=_dt(start - 120_000), last_modified_at=_dt(end + 60_000),
            training_start_at=_dt(start), training_end_at=_dt(end),
            role_arn=self.role(acct, role),
            instance_type=None if len(groups) > 1 else groups[0][1], instance_count=sum(g[2] for g in groups),
            instance_groups=[{"instance_group_name": g, "instance_type": t, "instance_count": c} for g, t, c in groups]
            if len(groups) > 1 else None,
            training_seconds=seconds, billable_seconds=billable, is_managed_spot=spot,
            warm_pool_retained_billable_seconds=warm_pool or None, tuning_job_arn=tuning_job_arn,
            experiment_name=experiment, trial_name=trial, run_name=f"{name}-run" if experiment else None,
            model_artifact_s3_uri=f"s3://acme-ml-artifacts-{acct}/{model}/{name}/output/model.tar.gz",
            training_image=f"{ACCOUNTS[acct][0]}.dkr.ecr.{region}.amazonaws.com/{model}-train:latest",
            tags=api_tags,
        )
        if experiment:
            tc = f"{name}-aws-training-job"
            self.meta_row("trial_components", acct, region,
                          trial_component_arn=self.arn(acct, region, "experiment-trial-component", tc),
                          trial_component_name=tc, trial_name=trial, experiment_name=experiment, source_arn=arn,
                          source_type="SageMakerTrainingJob", created_at=_dt(start), tags={})

    def heterogeneous_job(self, month: int) -> None:
        model, team = "recsys-two-tower", "recsys"
        start = month + 9 * DAY_MS + 3 * HOUR_MS
        groups = [("gpu-workers", "ml.g5.12xlarge", 2), ("data-loaders", "ml.c5.4xlarge", 4)]
        name = f"recsys-two-tower-hetero-{_dt(month):%Y%m}{self.sfx}"
        self.training_job("prod", "us-east-1", name, model, team, None, 6, start, 5 * 3600, 5 * 3600, False, "bill",
                          self.experiment_name(model), f"{model}-trial-{_dt(month):%Y%m}{self.sfx}", groups=groups)

    def tuning_job(self, month: int) -> None:
        model, team = "search-ranker", "search"
        tuning = f"search-hpo-{_dt(month):%Y%m}{self.sfx}"
        tuning_arn = self.arn("dev", "us-east-1", "hyper-parameter-tuning-job", tuning)
        start = month + 14 * DAY_MS
        self.meta_row("tuning_jobs", "dev", "us-east-1", tuning_job_arn=tuning_arn, tuning_job_name=tuning,
                      tuning_job_status="Completed", created_at=_dt(start), ended_at=_dt(start + 20 * HOUR_MS),
                      strategy="Bayesian", max_training_jobs=6,
                      tags={"ml:team": team, "ml:model": model, "ml:environment": "development"})
        # HPO children carry no tags of their own: only the parent tuning job knows the owner.
        owner = Owner(model, team, None, "development", "metadata")
        for child in range(6):
            name = f"{tuning}-{child + 1:03d}-{_hex(tuning, child)}"
            child_start = start + child * 3 * HOUR_MS
            self.training_job("dev", "us-east-1", name, model, team, "ml.g5.2xlarge", 1, child_start, 2 * 3600 + 600,
                              2 * 3600 + 600, False, "experiment", None, None, tuning_job_arn=tuning_arn, owner=owner)

    def processing_and_transform(self) -> None:
        rng = self.rng
        for m_index, month in enumerate(self.months[:-1]):
            for model, (team, _, _) in MODELS.items():
                trial = f"{model}-trial-{_dt(month):%Y%m}{self.sfx}"
                for k in range(2):
                    start = month + int(rng.integers(1, 27)) * DAY_MS + int(rng.integers(0, 23)) * HOUR_MS
                    seconds = int(rng.uniform(0.5, 3) * 3600)
                    name = f"{model}-prep-{_dt(start):%Y%m%d-%H}-{k}{self.sfx}"
                    arn = self.arn("dev", "us-east-1", "processing-job", name)
                    # Processing runs under the data-prep role, not the training role: only the
                    # experiment link ties it to its model.
                    owner = Owner(model, team, self.experiment_name(model), "development", "metadata")
                    hours = self.hours(start, start + seconds * 1000)
                    self.usage_block("dev", "us-east-1", arn, "Processing:ml.m5.xlarge", "AmazonSageMaker", hours,
                                     self.overlap_hours(hours, start, start + seconds * 1000) * 2, "Hrs",
                                     PRICES["ml.m5.xlarge"], {}, [(owner, None)], operation="Processing")
                    self.meta_row("processing_jobs", "dev", "us-east-1", processing_job_arn=arn,
                                  processing_job_name=name, processing_job_status="Completed",
                                  created_at=_dt(start - 60_000), processing_start_at=_dt(start),
                                  processing_end_at=_dt(start + seconds * 1000),
                                  role_arn=self.role("dev", "shared-dataprep-role"), instance_type="ml.m5.xlarge",
                                  instance_count=2, image_uri=f"{ACCOUNTS['dev'][0]}.dkr.ecr.us-east-1.amazonaws.com/dataprep:3",
                                  experiment_name=self.experiment_name(model), trial_name=trial,
                                  training_job_arn=None, monitoring_schedule_arn=None, tags={})
        # Batch transform: scoring runs that name a model; the model's API tags carry the owner.
        for month in self.months[:-1]:
            for model, instance in (("vision-classifier", "ml.g4dn.xlarge"), ("churn-predictor", "ml.m5.xlarge")):
                team = MODELS[model][0]
                for week in range(4):
                    start = month + (week * 7 + 2) * DAY_MS + 2 * HOUR_MS
                    end = start + 3 * HOUR_MS + 1_200_000
                    name = f"{model}-batch-{_dt(start):%Y%m%d}{self.sfx}"
                    arn = self.arn("prod", "us-east-1", "transform-job", name)
                    sm_model = f"{model}-batch-model{self.sfx}"
                    hours = self.hours(start, end)
                    owner = Owner(model, team, None, "production", "metadata")
                    self.usage_block("prod", "us-east-1", arn, f"Tsform:{instance}", "AmazonSageMaker", hours,
                                     self.overlap_hours(hours, start, end) * 2, "Hrs", PRICES[instance], {},
                                     [(owner, None)], operation="Transform")
                    self.meta_row("transform_jobs", "prod", "us-east-1", transform_job_arn=arn, transform_job_name=name,
                                  transform_job_status="Completed", created_at=_dt(start - 60_000),
                                  transform_start_at=_dt(start), transform_end_at=_dt(end), model_name=sm_model,
                                  instance_type=instance, instance_count=2, experiment_name=None, trial_name=None,
                                  tags={})
        for model in ("vision-classifier", "churn-predictor"):
            self.sm_model("prod", "us-east-1", f"{model}-batch-model{self.sfx}", model, MODELS[model][0], "SingleModel")

    def sm_model(self, acct: str, region: str, name: str, model: str | None, team: str, mode: str,
                 data_url: str | None = None, tags: dict | None = None) -> None:
        self.meta_row("models", acct, region, model_arn=self.arn(acct, region, "model", name), model_name=name,
                      created_at=_dt(self.t0 - 40 * DAY_MS), execution_role_arn=self.role(acct, f"{team}-sagemaker-inference"),
                      image_uri=f"{ACCOUNTS[acct][0]}.dkr.ecr.{region}.amazonaws.com/{(model or team)}-serve:1",
                      model_data_url=data_url or f"s3://acme-ml-artifacts-{acct}/{model}/model.tar.gz",
                      container_mode=mode,
                      tags=tags if tags is not None else {"ml:team": team, "ml:model": model or "",
                                                          "ml:environment": self.env(acct)})

    # ---------------------------------------------------------------- endpoints
    def endpoint(self, acct: str, region: str, name: str, variants: list[dict], bill_tags: dict, api_tags: dict,
                 created: int, deleted: int | None = None, config: str | None = None) -> str:
        arn = self.arn(acct, region, "endpoint", name)
        config = config or f"{name}-config"
        self.meta_row("endpoints", acct, region, endpoint_arn=arn, endpoint_name=name,
                      endpoint_status="Deleted" if deleted else "InService", endpoint_created_at=_dt(created),
                      endpoint_deleted_at=_dt(deleted) if deleted else None, endpoint_config_name=config,
                      config_active_from=_dt(created), config_active_to=_dt(deleted) if deleted else None,
                      tags=api_tags)
        for v in variants:
            self.meta_row("endpoint_configs", acct, region,
                          endpoint_config_arn=self.arn(acct, region, "endpoint-config", config),
                          endpoint_config_name=config, created_at=_dt(created - 600_000), variant_name=v["variant"],
                          model_name=v.get("model_name"), instance_type=v.get("instance"),
                          initial_instance_count=v.get("count"), initial_variant_weight=1.0,
                          serverless_memory_mb=v.get("memory"), serverless_max_concurrency=v.get("concurrency"),
                          is_async=v.get("async", False), tags=api_tags)
        return arn

    def endpoint_hosting(self, acct: str, region: str, arn: str, usage: str, hours: np.ndarray, counts: np.ndarray,
                         bill_tags: dict, owners: list[tuple[Owner, np.ndarray | None]], *, instance: str,
                         unknowable: np.ndarray | None = None) -> None:
        rate = PRICES[instance] * REGIONS[region][2]
        self.usage_block(acct, region, arn, usage, "AmazonSageMaker", hours, counts, "Hrs", rate, bill_tags, owners,
                         unknowable=unknowable)

    def endpoint_extras(self, acct: str, region: str, arn: str, start: int, end: int, bill_tags: dict,
                        owner: Owner, gb_out: float, daily_shares: list[tuple[Owner, np.ndarray]] | None = None) -> None:
        """ML storage and data transfer of an endpoint, one row a day each."""
        days = self.days(start, end)
        if not len(days):
            return
        share_owners = daily_shares or [(owner, None)]
        self.usage_block(acct, region, arn, "Host:VolumeUsage.gp2", "AmazonSageMaker", days, np.full(len(days), 30 / 30.4),
                         "GB-Mo", 0.14, bill_tags, share_owners, duration_ms=DAY_MS)
        noise = self.rng.uniform(0.6, 1.4, len(days))
        self.usage_block(acct, region, arn, "Data-Bytes-Out", "AmazonSageMaker", days, gb_out * noise, "GB", 0.016,
                         bill_tags, share_owners, duration_ms=DAY_MS, operation="RunInstance")
        self.usage_block(acct, region, arn, "Data-Bytes-In", "AmazonSageMaker", days, gb_out * 0.3 * noise, "GB", 0.0,
                         bill_tags, share_owners, duration_ms=DAY_MS, operation="RunInstance")

    def invocations(self, acct: str, region: str, dimension: str, hours: np.ndarray, counts: np.ndarray, *,
                    endpoint: str | None = None, variant: str | None = None, component: str | None = None,
                    target_model: str | None = None, namespace: str = "AWS/SageMaker",
                    latency_us: float = 25_000.0) -> None:
        for hour, count in zip(hours.tolist(), counts.tolist()):
            self.meta_row("endpoint_invocations", acct, region, metric_dimension=dimension, metric_namespace=namespace,
                          endpoint_name=endpoint, variant_name=variant, inference_component_name=component,
                          target_model=target_model, metric_hour_at=_dt(hour), invocations=float(count),
                          model_latency_us=latency_us if count else None)

    def traffic(self, hours: np.ndarray, per_hour: float) -> np.ndarray:
        hod = (hours // HOUR_MS) % 24
        daily = 0.35 + 0.65 * np.clip(np.sin((hod - 6) / 24 * 2 * np.pi), 0, None)
        return np.round(per_hour * daily * self.rng.uniform(0.8, 1.2, len(hours)))

    def endpoints(self) -> None:
        self.single_model_endpoints()
        self.recreated_endpoint()
        self.multi_model_endpoint()
        self.inference_component_endpoint()
        self.serverless_and_async()

    def single_model_endpoints(self) -> None:
        t0, t1 = self.t0 - 60 * DAY_MS, self.t1
        specs = [
            # name, acct, region, model, instance, profile
            (f"fraud-xgb-prod{self.sfx}", "prod", "us-east-1", "fraud-xgb", "ml.c5.2xlarge", "bill"),
            (f"search-ranker-prod{self.sfx}", "prod", "eu-west-1", "search-ranker", "ml.g5.2xlarge", "drift"),  # 4 instances
            (f"query-embedder-dev{self.sfx}", "dev", "us-east-1", "query-embedder", "ml.g5.xlarge", "rule"),
        ]
        for name, acct, region, model, instance, profile in specs:
            team, env = MODELS[model][0], self.env(acct)
            # Tagged endpoints name the experiment that produced the deployed model.
            experiment = self.experiment_name(model) if profile != "rule" else None
            bill_tags, api_tags = self.tags_for(profile, model, team, experiment, env)
            sm_model = f"{model}-model{self.sfx}"
            if profile != "rule":
                self.sm_model(acct, region, sm_model, model, team, "SingleModel")
            else:  # the forgotten dev endpoint: nothing tagged anywhere, the name is the only clue
                self.sm_model(acct, region, sm_model, model, team, "SingleModel", tags={})
            arn = self.endpoint(acct, region, name, [{"variant": "AllTraffic", "model_name": sm_model,
                                                      "instance": instance, "count": 2}], bill_tags, api_tags, t0)
            hours = self.hours(t0, t1)
            counts = np.full(len(hours), {"bill": 2.0, "drift": 4.0, "rule": 1.0}[profile])
            evidence = {"bill": "bill_tag", "drift": "bill_tag", "rule": "rule"}[profile]
            owner = Owner(model, team, experiment, env, evidence)
            if name.startswith("fraud-xgb-prod"):
                # Scales out from 2 to 4 instances on day 10 of the second month, and is partly
                # covered by the Machine Learning Savings Plan.
                counts[hours >= self.months[min(1, len(self.months) - 2)] + 9 * DAY_MS] = 4.0
                self.savings_plan_split(acct, region, arn, hours, counts, instance, bill_tags, owner)
            else:
                self.endpoint_hosting(acct, region, arn, f"Host:{instance}", hours, counts, bill_tags, [(owner, None)],
                                      instance=instance)
            self.endpoint_extras(acct, region, arn, t0, t1, bill_tags, owner, gb_out=4.0)
            if profile != "rule":  # the forgotten endpoint gets no traffic at all
                self.invocations(acct, region, "variant", hours, self.traffic(hours, 1800), endpoint=name,
                                 variant="AllTraffic")

    def savings_plan_split(self, acct: str, region: str, arn: str, hours: np.ndarray, counts: np.ndarray,
                           instance: str, bill_tags: dict, owner: Owner) -> None:
        rate = PRICES[instance] * REGIONS[region][2]
        covered = np.minimum(counts, np.floor(SP_HOURLY_COMMITMENT / (rate * SP_RATE)))
        commitment = {"CommitmentDiscountCategory": "Spend", "CommitmentDiscountId": SP_ARN,
                      "CommitmentDiscountName": "ml-savings-plan-1yr", "CommitmentDiscountStatus": "Used",
                      "CommitmentDiscountType": "Machine Learning Savings Plan", "CommitmentDiscountUnit": "USD"}
        self.usage_block(acct, region, arn, f"Host:{instance}", "AmazonSageMaker", hours, covered, "Hrs", rate, bill_tags,
                         [(owner, None)], pricing="Committed", billed_rate=0.0, effective_rate=rate * SP_RATE,
                         commitment=commitment)
        rest = counts - covered
        keep = rest > 0
        if keep.any():
            self.endpoint_hosting(acct, region, arn, f"Host:{instance}", hours[keep], rest[keep], bill_tags,
                                  [(owner, None)], instance=instance)
        unused = SP_HOURLY_COMMITMENT - covered * rate * SP_RATE
        self.sp_hours = (hours, unused)

    def recreated_endpoint(self) -> None:
        """recsys-prod is deleted mid-month and re-created under the same name, new config and model."""
        acct, region, team = "prod", "us-east-1", "recsys"
        name = f"recsys-prod{self.sfx}"
        env = self.env(acct)
        cut = self.months[min(1, len(self.months) - 2)] + 14 * DAY_MS + 12 * HOUR_MS
        recreate = cut + 2 * HOUR_MS
        # The first incarnation was fully tagged; whoever re-created it tagged only the team, so
        # its model is known only through the endpoint config in force after the re-creation.
        first_tags, _ = self.tags_for("bill", "recsys-two-tower", team, self.experiment_name("recsys-two-tower"), env)
        for model, instance, count, created, deleted, config, bill_tags in (
            ("recsys-two-tower", "ml.g5.xlarge", 2, self.t0 - 90 * DAY_MS, cut, f"{name}-config-v1", first_tags),
            ("recsys-reranker", "ml.g5.2xlarge", 1, recreate, None, f"{name}-config-v2",
             {"ml:team": team, "ml:environment": env}),
        ):
            sm_model = f"{model}-model{self.sfx}"
            self.sm_model(acct, region, sm_model, model, team, "SingleModel")
            arn = self.endpoint(acct, region, name, [{"variant": "AllTraffic", "model_name": sm_model, "instance": instance,
                                                      "count": count}], bill_tags, bill_tags, created, deleted, config)
            hours = self.hours(created, deleted or self.t1)
            tagged = "ml:model" in bill_tags
            owner = Owner(model, team, bill_tags.get("ml:experiment"), env, "bill_tag" if tagged else "metadata")
            self.endpoint_hosting(acct, region, arn, f"Host:{instance}", hours, np.full(len(hours), float(count)),
                                  bill_tags, [(owner, None)], instance=instance)
            self.invocations(acct, region, "variant", hours, self.traffic(hours, 900), endpoint=name, variant="AllTraffic")

    def multi_model_endpoint(self) -> None:
        """One ml.m5.2xlarge x2 endpoint serving three models with uneven, changing traffic."""
        acct, region, team = "prod", "us-east-1", "growth"
        name = f"tabular-mme-prod{self.sfx}"
        env = self.env(acct)
        tags = {"ml:team": team, "ml:environment": env}
        sm_model = f"tabular-mme-container{self.sfx}"
        self.sm_model(acct, region, sm_model, None, team, "MultiModel",
                      data_url=f"s3://acme-ml-artifacts-prod/mme/tabular{self.sfx}/", tags=tags)
        created = self.t0 - 120 * DAY_MS
        arn = self.endpoint(acct, region, name, [{"variant": "AllTraffic", "model_name": sm_model,
                                                  "instance": "ml.m5.2xlarge", "count": 2}], tags, tags, created)
        hours = self.hours(created, self.t1)
        models = ["churn-predictor", "ltv-model", "price-forecaster"]
        weights = np.array([0.6, 0.3, 0.1])
        drift = np.linspace(0, 1, len(hours))  # ltv-model grows over the quarter
        mix = np.stack([weights[0] - 0.2 * drift, weights[1] + 0.15 * drift, weights[2] + 0.05 * drift], axis=1)
        total = self.traffic(hours, 3000)
        hod = (hours // HOUR_MS) % 24
        total[(hod >= 1) & (hod < 5)] = 0  # quiet nights: zero-traffic hours
        per_model = np.round(total[:, None] * mix * self.rng.uniform(0.7, 1.3, mix.shape))
        hour_total = per_model.sum(axis=1)
        # A few hours whose custom metric never arrived: the split is unknowable there.
        missing = np.zeros(len(hours), dtype=bool)
        missing[self.rng.choice(len(hours), size=min(len(hours), 3 * len(self.months)), replace=False)] = True
        missing &= hour_total > 0
        safe_total = np.where(hour_total > 0, hour_total, 1)
        idle_owner = Owner("__idle__", team, None, env, "metadata")
        owners: list[tuple[Owner, np.ndarray | None]] = [
            (Owner(model, team, None, env, "metadata"), per_model[:, j] / safe_total) for j, model in enumerate(models)
        ]
        owners.append((idle_owner, np.where(hour_total > 0, 0.0, 1.0)))
        self.endpoint_hosting(acct, region, arn, "Host:ml.m5.2xlarge", hours, np.full(len(hours), 2.0), tags, owners,
                              instance="ml.m5.2xlarge", unknowable=missing)
        # Storage and data transfer follow each day's measured traffic (the hours with metrics).
        days = self.days(created, self.t1)
        day_of_hour = np.searchsorted(days, hours, side="right") - 1
        measured = np.where(missing[:, None], 0.0, per_model)
        per_day = np.zeros((len(days), len(models)))
        np.add.at(per_day, day_of_hour, measured)
        day_total = per_day.sum(axis=1)
        daily = [(o, per_day[:, j] / np.where(day_total > 0, day_total, 1)) for j, (o, _) in enumerate(owners[:-1])]
        daily.append((idle_owner, np.where(day_total > 0, 0.0, 1.0)))
        self.endpoint_extras(acct, region, arn, created, self.t1, tags, idle_owner, gb_out=6.0, daily_shares=daily)
        self.invocations(acct, region, "variant", hours, hour_total, endpoint=name, variant="AllTraffic")
        for j, model in enumerate(models):
            keep = ~missing & (per_model[:, j] > 0)
            self.invocations(acct, region, "target_model", hours[keep], per_model[keep, j], endpoint=name,
                             target_model=f"{model}.tar.gz", namespace="SMCost/MultiModel")
            self.sm_model(acct, region, f"{model}-mme-entry{self.sfx}", model, team, "SingleModel",
                          data_url=f"s3://acme-ml-artifacts-prod/mme/tabular{self.sfx}/{model}.tar.gz")

    def inference_component_endpoint(self) -> None:
        """An ml.g5.12xlarge (4 GPUs) hosting two inference components; the rest is idle capacity."""
        acct, region, team = "prod", "us-east-1", "nlp"
        name = f"genai-ic-prod{self.sfx}"
        env = self.env(acct)
        tags = {"ml:team": team, "ml:environment": env}
        created = self.months[1] + 14 * DAY_MS  # launched in the middle of the second month
        arn = self.endpoint(acct, region, name, [{"variant": "AllTraffic", "instance": "ml.g5.12xlarge", "count": 1}],
                            tags, tags, created)
        hours = self.hours(created, self.t1)
        owners = []
        reserved = 0.0
        for model, copies, gpus in (("nlp-summarizer", 1, 2), ("nlp-sentiment", 1, 1)):
            component = f"{model}-ic{self.sfx}"
            sm_model = f"{model}-model{self.sfx}"
            self.sm_model(acct, region, sm_model, model, team, "SingleModel")
            self.meta_row("inference_components", acct, region,
                          inference_component_arn=self.arn(acct, region, "inference-component", component),
                          inference_component_name=component, inference_component_status="InService",
                          endpoint_name=name, variant_name="AllTraffic", model_name=sm_model,
                          created_at=_dt(created), last_modified_at=_dt(created),
                          current_copy_count=copies, cpu_cores_required=4.0, accelerator_devices_required=float(gpus),
                          memory_required_mb=16_384, tags={"ml:team": team, "ml:model": model})
            share = copies * gpus / 4
            reserved += share
            owners.append((Owner(model, team, None, env, "metadata"), np.full(len(hours), share)))
            self.invocations(acct, region, "inference_component", hours, self.traffic(hours, 400), component=component)
        owners.append((Owner("__idle__", team, None, env, "metadata"), np.full(len(hours), 1 - reserved)))
        self.endpoint_hosting(acct, region, arn, "Host:ml.g5.12xlarge", hours, np.ones(len(hours)), tags, owners,
                              instance="ml.g5.12xlarge")

    def serverless_and_async(self) -> None:
        acct, region = "prod", "us-east-1"
        env = self.env(acct)
        # Serverless: billed per second of compute at the configured memory size; tags only on the API side.
        model, team = "vision-classifier", "vision"
        name = f"vision-classifier-serverless{self.sfx}"
        bill_tags, api_tags = self.tags_for("api_only", model, team, None, env)
        sm_model = f"{model}-model{self.sfx}"
        self.sm_model(acct, region, sm_model, model, team, "SingleModel")
        arn = self.endpoint(acct, region, name, [{"variant": "AllTraffic", "model_name": sm_model, "memory": 4096,
                                                  "concurrency": 20}], bill_tags, api_tags, self.t0 - 10 * DAY_MS)
        hours = self.hours(self.t0, self.t1)
        calls = self.traffic(hours, 700)
        seconds = calls * 0.35
        keep = seconds > 0
        self.usage_block(acct, region, arn, "ServerlessInf:Mem-4GB", "AmazonSageMaker", hours[keep], seconds[keep],
                         "Second", 0.00008, bill_tags, [(Owner(model, team, None, env, "api_tag"), None)],
                         operation="ServerlessInference")
        self.invocations(acct, region, "variant", hours, calls, endpoint=name, variant="AllTraffic")
        # Async: an instance-backed endpoint, fully tagged.
        model, team = "vision-ocr", "vision"
        name = f"vision-ocr-async{self.sfx}"
        experiment = self.experiment_name(model)
        bill_tags, api_tags = self.tags_for("bill", model, team, experiment, env)
        sm_model = f"{model}-model{self.sfx}"
        self.sm_model(acct, region, sm_model, model, team, "SingleModel")
        arn = self.endpoint(acct, region, name, [{"variant": "AllTraffic", "model_name": sm_model,
                                                  "instance": "ml.g4dn.xlarge", "count": 1, "async": True}],
                            bill_tags, api_tags, self.t0 - 10 * DAY_MS)
        self.usage_block(acct, region, arn, "AsyncInf:ml.g4dn.xlarge", "AmazonSageMaker", hours, np.ones(len(hours)),
                         "Hrs", PRICES["ml.g4dn.xlarge"], bill_tags,
                         [(Owner(model, team, experiment, env, "bill_tag"), None)], operation="AsyncInference")
        self.invocations(acct, region, "variant", hours, self.traffic(hours, 120), endpoint=name, variant="AllTraffic")

    # ---------------------------------------------------------------- notebooks and Studio
    def notebooks_and_studio(self) -> None:
        acct, region = "dev", "us-east-1"
        env = self.env(acct)
        notebooks = [
            # name, instance, team, role, profile, always_on
            (f"fraud-eda{self.sfx}", "ml.t3.xlarge", "fraud", "fraud-sagemaker-training", "bill", True),
            (f"vision-gpu-nb{self.sfx}", "ml.g4dn.xlarge", "vision", "vision-sagemaker-training", "bill", False),
            (f"recsys-explore{self.sfx}", "ml.m5.xlarge", "recsys", "recsys-data-science", "rule", True),
            (f"scratch-nb{self.sfx}", "ml.t3.medium", None, GENERIC_ROLE, "none", True),
        ]
        for name, instance, team, role, profile, always_on in notebooks:
            arn = self.arn(acct, region, "notebook-instance", name)
            hours = self.hours(self.t0 - DAY_MS, self.t1)
            if not always_on:  # started in the morning, stopped in the evening, weekdays
                hod = (hours // HOUR_MS) % 24
                dow = ((hours // DAY_MS) + 3) % 7  # 1970-01-01 was a Thursday
                hours = hours[(hod >= 8) & (hod < 19) & (dow < 5)]
            bill_tags = {"ml:team": team, "ml:environment": env} if profile == "bill" else {}
            evidence = {"bill": "bill_tag", "rule": "rule", "none": "none"}[profile]
            owner = Owner(None, team, None, env, evidence)
            self.usage_block(acct, region, arn, f"Notebk:{instance}", "AmazonSageMaker", hours, np.ones(len(hours)),
                             "Hrs", PRICES[instance], bill_tags, [(owner, None)])
            self.meta_row("notebook_instances", acct, region, notebook_instance_arn=arn, notebook_instance_name=name,
                          notebook_instance_status="InService" if always_on else "Stopped", instance_type=instance,
                          created_at=_dt(self.t0 - 100 * DAY_MS), last_modified_at=_dt(self.t0 - 100 * DAY_MS),
                          role_arn=self.role(acct, role), tags=bill_tags)
        domain = f"d-demo{_hex('domain', self.sfx, n=6)}"
        self.meta_row("studio_domains", acct, region, domain_id=domain,
                      domain_arn=self.arn(acct, region, "domain", domain), domain_name=f"ml-studio{self.sfx}",
                      created_at=_dt(self.t0 - 200 * DAY_MS), tags={})
        for user, team, instance in (("alice", "fraud", "ml.t3.medium"), ("bob", "search", "ml.g5.xlarge"),
                                     ("carol", "nlp", "ml.t3.medium")):
            self.meta_row("studio_user_profiles", acct, region, domain_id=domain, user_profile_name=user,
                          user_profile_arn=self.arn(acct, region, "user-profile", f"{domain}/{user}"),
                          execution_role_arn=self.role(acct, GENERIC_ROLE), created_at=_dt(self.t0 - 200 * DAY_MS),
                          tags={})
            space = f"{user}-space"
            self.meta_row("studio_spaces", acct, region, domain_id=domain, space_name=space,
                          space_arn=self.arn(acct, region, "space", f"{domain}/{space}"), owner_user_profile_name=user,
                          created_at=_dt(self.t0 - 200 * DAY_MS), tags={})
            app_arn = self.arn(acct, region, "app", f"{domain}/{space}/jupyterlab/default")
            self.meta_row("studio_apps", acct, region, app_arn=app_arn, domain_id=domain, user_profile_name=None,
                          space_name=space, app_type="JupyterLab", app_name="default", app_status="InService",
                          instance_type=instance, created_at=_dt(self.t0 - 200 * DAY_MS), tags={})
            hours = self.hours(self.t0, self.t1)
            hod = (hours // HOUR_MS) % 24
            hours = hours[(hod >= 9) & (hod < 18)]
            self.usage_block(acct, region, app_arn, f"Studio:JupyterLab-{instance}", "AmazonSageMaker", hours,
                             np.ones(len(hours)), "Hrs", PRICES[instance], {},
                             [(Owner(None, team, None, env, "rule"), None)], operation="RunInstance")

    # ---------------------------------------------------------------- commitments, credits, tax
    def commitments_and_adjustments(self) -> None:
        hours, unused = self.sp_hours
        acct, region = "prod", "us-east-1"
        nobody = Owner(None, None, None, None, "none")
        sp = {"CommitmentDiscountCategory": "Spend", "CommitmentDiscountId": SP_ARN,
              "CommitmentDiscountName": "ml-savings-plan-1yr", "CommitmentDiscountType": "Machine Learning Savings Plan",
              "CommitmentDiscountUnit": "USD"}
        # The plan's recurring fee: billed every hour; its effective cost lives on the covered usage.
        self.usage_block(acct, region, SP_ARN, "MLSP:Recurring", "MachineLearningSavingsPlans", hours,
                         np.ones(len(hours)), "Hrs", SP_HOURLY_COMMITMENT, {}, [(nobody, None)], category="Purchase",
                         frequency="Recurring", effective_rate=0.0, pricing="Standard",
                         operation="SavingsPlanRecurringFee",
                         description="Machine Learning Savings Plan recurring fee", commitment=sp)
        keep = unused > 1e-9
        self.usage_block(acct, region, SP_ARN, "MLSP:Unused", "MachineLearningSavingsPlans", hours[keep], unused[keep],
                         "USD", 1.0, {}, [(nobody, None)], billed_rate=0.0, effective_rate=1.0, pricing="Committed",
                         operation="SavingsPlanUnusedCommitment", description="Unused Savings Plan commitment",
                         commitment={**sp, "CommitmentDiscountStatus": "Unused"})
        for i, month in enumerate(self.months[:-1]):
            self.usage_block(acct, region, None, "", "AmazonSageMaker", [month], [1.0], "USD", -150.0, {},
                             [(nobody, None)], category="Credit", frequency="One-Time", pricing=None,
                             operation="Credit", description="AWS Activate credit", duration_ms=self.months[i + 1] - month)
            self.usage_block(acct, region, None, "", "AmazonSageMaker", [month], [1.0], "USD", 42.5 + 10 * i, {},
                             [(nobody, None)], category="Tax", frequency="One-Time", pricing=None, operation="Tax",
                             description="Tax for SageMaker", duration_ms=self.months[i + 1] - month)
        # A refund for an outage of the search endpoint: linked to its resource and tags.
        month = self.months[min(1, len(self.months) - 2)]
        name = f"search-ranker-prod{self.sfx}"
        arn = self.arn("prod", "eu-west-1", "endpoint", name)
        drift, _ = self.tags_for("drift", "search-ranker", "search", None, "production")
        self.usage_block("prod", "eu-west-1", arn, "Host:ml.g5.2xlarge", "AmazonSageMaker", [month + 20 * DAY_MS], [1.0],
                         "USD", -25.0, drift, [(Owner("search-ranker", "search", None, "production", "bill_tag"), None)],
                         category="Credit", frequency="One-Time", pricing=None, operation="Refund",
                         description="Refund: endpoint outage", duration_ms=DAY_MS)
        # A correction booked in the last period restating a training job of the first period.
        first_jobs = [b for b in self.blocks if b.scalars["x_Operation"] == "Training" and b.scalars["Tags"]
                      and b.start_ms.size and b.start_ms[0] < self.months[1]]
        if len(self.months) > 2 and first_jobs:
            job = first_jobs[0]
            owner = job.owners[0][0]
            acct = next(k for k, v in ACCOUNTS.items() if v[0] == job.scalars["SubAccountId"])  # the job's own account
            self.usage_block(acct, job.scalars["RegionId"], job.scalars["ResourceId"], job.scalars["SkuMeter"].split("-", 1)[1],
                             "AmazonSageMaker", [int(job.start_ms[0])], [1.0], "USD", -12.34, dict(job.scalars["Tags"]),
                             [(owner, None)], charge_class="Correction", frequency="Usage-Based", operation="Training",
                             description="Pricing correction for an earlier period",
                             billing_period_ms=self.months[-2])

    def neighbours(self) -> None:
        """Not SageMaker, but part of a model's fully-loaded cost (and one thing that only looks like it)."""
        acct, region = "prod", "us-east-1"
        days = self.days(self.t0, self.t1)
        nobody = Owner(None, None, None, None, "none")
        for bucket, gb in ((f"acme-ml-artifacts-prod{self.sfx}", 1800.0), (f"acme-ml-artifacts-dev{self.sfx}", 950.0)):
            self.usage_block(acct, region, bucket, "TimedStorage-ByteHrs", "AmazonS3", days,
                             np.full(len(days), gb / 30.4), "GB-Mo", 0.023, {}, [(nobody, None)],
                             operation="StandardStorage", duration_ms=DAY_MS)
        for repo in ("fraud-xgb-serve", "nlp-summarizer-serve", "dataprep"):
            self.usage_block(acct, region, f"arn:aws:ecr:{region}:{ACCOUNTS[acct][0]}:repository/{repo}{self.sfx}",
                             "TimedStorage-ByteHrs", "AmazonECR", days, np.full(len(days), 12 / 30.4), "GB-Mo", 0.10,
                             {}, [(nobody, None)], operation="ECRStorage", duration_ms=DAY_MS)
        for group in ("/aws/sagemaker/Endpoints/fraud-xgb-prod", "/aws/sagemaker/TrainingJobs"):
            self.usage_block(acct, region, f"arn:aws:logs:{region}:{ACCOUNTS[acct][0]}:log-group:{group}{self.sfx}",
                             "TimedStorage-ByteHrs", "AmazonCloudWatch", days, np.full(len(days), 40 / 30.4), "GB-Mo",
                             0.03, {}, [(nobody, None)], operation="PutLogEvents", duration_ms=DAY_MS)
        # A plain EC2 g5 instance: same GPU family as SageMaker's ml.g5, but not SageMaker.
        hours = self.hours(self.t0, self.t1)
        self.usage_block(acct, region, f"i-0{_hex('ec2', self.sfx, n=16)}", "BoxUsage:g5.2xlarge", "AmazonEC2", hours,
                         np.ones(len(hours)), "Hrs", 1.212, {"ml:team": "vision"}, [(nobody, None)])
        self.meta_row("s3_artifacts", acct, region, bucket="acme-ml-artifacts-prod", key_or_prefix=f"mme/tabular{self.sfx}/",
                      is_prefix_total=True, object_count=3, size_bytes=3 * 180_000_000,
                      last_modified_at=_dt(self.t0 - DAY_MS))
        for model in MODELS:
            self.meta_row("s3_artifacts", acct, region, bucket="acme-ml-artifacts-prod",
                          key_or_prefix=f"{model}{self.sfx}/model.tar.gz", is_prefix_total=False, object_count=1,
                          size_bytes=int(self.rng.integers(50, 4000)) * 1_000_000, last_modified_at=_dt(self.t0 - DAY_MS))
            self.meta_row("ecr_images", acct, region, repository_name=f"{model}-serve{self.sfx}",
                          repository_arn=f"arn:aws:ecr:{region}:{ACCOUNTS[acct][0]}:repository/{model}-serve{self.sfx}",
                          image_digest="sha256:" + _hex(model, "img", self.sfx, n=64), image_tags=["1"],
                          image_uri=f"{ACCOUNTS[acct][0]}.dkr.ecr.{region}.amazonaws.com/{model}-serve{self.sfx}:1",
                          size_bytes=int(self.rng.integers(2, 9)) * 1_000_000_000, pushed_at=_dt(self.t0 - 60 * DAY_MS))
        for group in ("/aws/sagemaker/TrainingJobs", "/aws/sagemaker/ProcessingJobs",
                      "/aws/sagemaker/Endpoints/fraud-xgb-prod", "/aws/sagemaker/Endpoints/tabular-mme-prod"):
            self.meta_row("log_groups", acct, region, log_group_name=group + self.sfx,
                          log_group_arn=f"arn:aws:logs:{region}:{ACCOUNTS[acct][0]}:log-group:{group}{self.sfx}",
                          stored_bytes=int(self.rng.integers(1, 60)) * 1_000_000_000, retention_days=30,
                          created_at=_dt(self.t0 - 300 * DAY_MS))


SERVICES = {
    "AmazonSageMaker": ("Amazon SageMaker", "AI and Machine Learning", "AI Platforms"),
    "MachineLearningSavingsPlans": ("Savings Plans for Machine Learning", "AI and Machine Learning", "AI Platforms"),
    "AmazonS3": ("Amazon Simple Storage Service", "Storage", "Object Storage"),
    "AmazonECR": ("Amazon EC2 Container Registry (ECR)", "Storage", "Other (Storage)"),
    "AmazonCloudWatch": ("AmazonCloudWatch", "Management and Governance", "Observability"),
    "AmazonEC2": ("Amazon Elastic Compute Cloud", "Compute", "Virtual Machines"),
}


# ------------------------------------------------------------------------------------ to Arrow
SAGEMAKER_SCOPE = {"AmazonSageMaker", "MachineLearningSavingsPlans"}
_BLOCK_COLUMNS = [f for f in focus_schema("1.2").names if f not in {
    "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice", "ContractedUnitPrice",
    "ConsumedQuantity", "PricingQuantity", "ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart",
    "BillingPeriodEnd", "InvoiceId", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "CommitmentDiscountQuantity"}]


def _period_bounds(start_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Month start and next month start (ms) for each timestamp."""
    months = start_ms.astype("datetime64[ms]").astype("datetime64[M]")
    return (months.astype("datetime64[ms]").astype(np.int64), (months + 1).astype("datetime64[ms]").astype(np.int64))


def to_tables(scenario: Scenario, focus_version: str) -> tuple[pa.Table, pa.Table]:
    """The scenario's bill (in the export's exact schema) and its ground truth."""
    blocks = scenario.blocks
    sizes = np.array([len(b.start_ms) for b in blocks])
    block_idx = np.repeat(np.arange(len(blocks)), sizes)
    start = np.concatenate([b.start_ms for b in blocks])
    qty = np.concatenate([b.quantity for b in blocks])
    duration = np.repeat([b.duration_ms for b in blocks], sizes)
    rate = {k: np.repeat([b.scalars[k] for b in blocks], sizes) for k in ("_list", "_billed", "_effective")}
    booked = np.concatenate([np.full(len(b.start_ms), b.billing_period_ms if b.billing_period_ms is not None else -1)
                             for b in blocks])
    bp_start, bp_end = _period_bounds(np.where(booked >= 0, booked, start))
    per_block = pa.Table.from_pylist([{k: b.scalars.get(k) for k in _BLOCK_COLUMNS} for b in blocks],
                                     schema=pa.schema([focus_schema("1.2").field(k) for k in _BLOCK_COLUMNS]))
    table = per_block.take(pa.array(block_idx))
    usage = np.array([b.scalars["ChargeCategory"] == "Usage" for b in blocks])[block_idx]
    billed, effective, listed = qty * rate["_billed"], qty * rate["_effective"], qty * rate["_list"]
    ts = pa.timestamp("ms")
    periods = np.datetime_as_string(bp_start.astype("datetime64[ms]"), unit="M")
    columns = {
        "BilledCost": billed, "EffectiveCost": effective, "ListCost": listed, "ContractedCost": listed,
        "ListUnitPrice": rate["_list"], "ContractedUnitPrice": rate["_list"],
        "PricingCurrencyListUnitPrice": rate["_list"], "PricingCurrencyContractedUnitPrice": rate["_list"],
        "PricingCurrencyEffectiveCost": effective,
        "ConsumedQuantity": pa.array(qty, mask=~usage), "PricingQuantity": pa.array(qty, mask=~usage),
        "ChargePeriodStart": pa.array(start, ts), "ChargePeriodEnd": pa.array(start + duration, ts),
        "BillingPeriodStart": pa.array(bp_start, ts), "BillingPeriodEnd": pa.array(bp_end, ts),
        "InvoiceId": pa.array(np.char.add(np.char.add("INV-", periods), f"-{PAYER[0]}")),
        "CommitmentDiscountQuantity": pa.array(effective, mask=~np.array(
            [b.scalars.get("CommitmentDiscountStatus") == "Used" for b in blocks])[block_idx]),
    }
    for name, values in columns.items():
        table = table.append_column(name, pa.array(values) if not isinstance(values, pa.Array) else values)
    if focus_version == "1.0":
        table = table.append_column("x_UsageType", table.column("SkuMeter"))
        table = table.append_column("x_CostCategories", pa.nulls(table.num_rows, pa.map_(pa.string(), pa.string())))
    schema = focus_schema(focus_version)
    bill = table.select(schema.names).cast(schema)

    # Ground truth: one row per SageMaker-scope bill row and true owner with a non-zero share.
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    gt_rows, gt_owner, gt_share, gt_knowable = [], [], [], []
    owners: list[Owner] = []
    for i, b in enumerate(blocks):
        if b.scalars["x_ServiceCode"] not in SAGEMAKER_SCOPE:
            continue
        rows = np.arange(offsets[i], offsets[i + 1])
        knowable = np.ones(len(rows), dtype=bool) if b.unknowable is None else ~b.unknowable
        for owner, share in b.owners:
            share = np.ones(len(rows)) if share is None else share
            keep = share > 0
            owners.append(owner)
            gt_rows.append(rows[keep])
            gt_owner.append(np.full(keep.sum(), len(owners) - 1))
            gt_share.append(share[keep])
            gt_knowable.append(knowable[keep] & owner.is_knowable)
    r = np.concatenate(gt_rows)
    o = np.concatenate(gt_owner)
    share = np.concatenate(gt_share)
    owner_table = pa.Table.from_pylist([{"model": w.model, "team": w.team, "experiment": w.experiment,
                                         "environment": w.environment, "evidence": w.evidence} for w in owners])
    owner_cols = owner_table.take(pa.array(o))
    knowable = np.concatenate(gt_knowable)
    truth = pa.table({
        "billing_period": pa.array(periods[r]),
        "sub_account_id": bill.column("SubAccountId").take(pa.array(r)),
        "resource_id": bill.column("ResourceId").take(pa.array(r)),
        "charge_period_start": pa.array(start[r], ts),
        "usage_type": bill.column(USAGE_TYPE_COLUMN[focus_version]).take(pa.array(r)),
        "charge_category": bill.column("ChargeCategory").take(pa.array(r)),
        "charge_class": bill.column("ChargeClass").take(pa.array(r)),
        "pricing_category": bill.column("PricingCategory").take(pa.array(r)),
        "model": owner_cols.column("model"), "team": owner_cols.column("team"),
        "experiment": owner_cols.column("experiment"), "environment": owner_cols.column("environment"),
        "share": share, "billed_cost": billed[r] * share, "effective_cost": effective[r] * share,
        "is_knowable": knowable,
        "evidence": pa.array(np.where(knowable, np.array(owner_cols.column("evidence").to_pylist(), dtype=object), "none")),
    })
    return bill, truth.cast(GROUND_TRUTH.schema)


# ------------------------------------------------------------------------------------ CLI
# Bounds on the knobs. --months: the correction restates an earlier period, so at least 2; at most
# 36 because each replica's whole bill is built in memory before it streams to disk (peak RSS about
# 1.4 GB at 36 months, growing linearly), and three years covers every case several times over.
# --scale: replicas stream one at a time (memory stays flat), but 1,000 replicas are ~37M bill rows
# at 3 months, several GB of Parquet and a long dbt build: a bigger number is almost surely a typo.
# --start-month: a real calendar month (01-12, never rolled over into the next year) in 2000-2099.
MIN_MONTHS, MAX_MONTHS = 2, 36
MAX_SCALE = 1000
_YEAR_MONTH = re.compile(r"(20\d\d)-(0[1-9]|1[0-2])")


def check_options(*, months: int, start_month: str, scale: int, seed: int, export_name: str) -> None:
    """ValueError, with a one-line message naming the flag, for any knob generate() cannot honour."""
    if not isinstance(start_month, str) or not _YEAR_MONTH.fullmatch(start_month):
        raise ValueError(f"--start-month must be YYYY-MM with month 01-12 and year 2000-2099, got {start_month!r}")
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise ValueError(f"--months must be between {MIN_MONTHS} (the correction restates an earlier period) "
                         f"and {MAX_MONTHS}, got {months}")
    if not 1 <= scale <= MAX_SCALE:
        raise ValueError(f"--scale must be between 1 and {MAX_SCALE}, got {scale}")
    if seed < 0:
        raise ValueError(f"--seed must be 0 or more, got {seed}")
    try:
        lake.validate_name("--export-name", export_name)
    except ValueError as exc:
        raise ValueError(f"{exc} (it becomes the folder billing/<export-name> under --out)") from None


def _checked(flag: str, convert):
    """An argparse type: convert, then check_options() judges this one flag (one-line error, exit 2)."""
    defaults = dict(months=3, start_month="2026-08", scale=1, seed=0, export_name=lake.DEFAULT_EXPORT_NAME)

    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        try:
            check_options(**{**defaults, flag: value})
        except ValueError as exc:  # argparse already says "argument --months: "
            raise argparse.ArgumentTypeError(str(exc).removeprefix("--" + flag.replace("_", "-") + " ")) from None
        return value

    parse.__name__ = flag  # argparse names the type in its messages
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=lake.DEFAULT_LAKE_ROOT,
                        help="lake root to write; its billing/<export>, sagemaker/ and demo/ folders are replaced "
                             "(default: %(default)s)")
    parser.add_argument("--seed", type=_checked("seed", int), default=42,
                        help="random seed; same seed, same files (default: %(default)s)")
    parser.add_argument("--months", type=_checked("months", int), default=3,
                        help=f"billing periods to generate, {MIN_MONTHS}-{MAX_MONTHS}; at least 3 for every case "
                             "(default: %(default)s)")
    parser.add_argument("--start-month", type=_checked("start_month", str), default="2026-08",
                        help="first billing period, YYYY-MM (default: %(default)s)")
    parser.add_argument("--scale", type=_checked("scale", int), default=1,
                        help=f"replicate the account's resources N times, 1-{MAX_SCALE} (about 37k bill rows "
                             "each at 3 months)")
    parser.add_argument("--focus-version", choices=["1.2", "1.0"], default="1.2",
                        help="which AWS FOCUS export to imitate (default: %(default)s)")
    parser.add_argument("--export-name", type=_checked("export_name", str), default=lake.DEFAULT_EXPORT_NAME,
                        help="export folder name: letters, digits, '-', '_', '.' (default: %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _clear_previous_demo(out: str, export_name: str) -> None:
    """The demo owns its lake: drop what an earlier run wrote (other periods, dates, versions).
    A lake the extractor has written to (it has run manifests) is never the demo's: refuse."""
    fs, base = lake.filesystem(out)
    if fs.get_file_info(f"{base}/sagemaker/_runs").type == lake.pafs.FileType.Directory:
        raise ValueError(f"{out} holds `smcost extract` runs (sagemaker/_runs): not overwriting real metadata "
                         "with the demo account; choose another --out")
    lake.validate_name("export name", export_name)
    for sub in (f"billing/{export_name}", "sagemaker", "demo"):
        path = f"{base}/{sub}"
        if fs.get_file_info(path).type == lake.pafs.FileType.Directory:
            lake.delete_inside(fs, base, path, directory=True)  # never outside --out, even through a symlink


def generate(out: str, *, seed: int = 42, months: int = 3, start_month: str = "2026-08", scale: int = 1,
             focus_version: str = "1.2", export_name: str = lake.DEFAULT_EXPORT_NAME, progress: bool = False) -> dict:
    """Write the demo account under ``out``; returns counts per output."""
    check_options(months=months, start_month=start_month, scale=scale, seed=seed, export_name=export_name)
    _clear_previous_demo(out, export_name)
    periods = [datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m") for ms in _month_starts(start_month, months)[:-1]]
    schema = focus_schema(focus_version)
    bill_writers = {p: lake.PartitionWriter(out, lake.billing_partition(p, export_name), schema) for p in periods}
    truth_writer = lake.PartitionWriter(out, lake.GROUND_TRUTH_DIR, GROUND_TRUTH.schema)
    extract_date = None
    meta_writers: dict[str, lake.PartitionWriter] = {}
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=scale, unit="replica", desc="demo account", disable=not sys.stderr.isatty())
    for replica in range(scale):
        scenario = Scenario(seed, replica, start_month, months).build()
        bill, truth = to_tables(scenario, focus_version)
        period_col = np.datetime_as_string(
            bill.column("BillingPeriodStart").to_numpy().astype("datetime64[ms]"), unit="M")
        for p, writer in bill_writers.items():
            writer.write(bill.filter(pa.array(period_col == p)))
        truth_writer.write(truth)
        if extract_date is None:
            extract_date = scenario.extracted_at.strftime("%Y-%m-%d")
            meta_writers = {name: lake.PartitionWriter(out, lake.dataset_partition(name, extract_date), ds.schema)
                            for name, ds in DATASETS.items()}
        for name, rows in scenario.meta.items():
            meta_writers[name].write(lake.rows_to_table(rows, DATASETS[name].schema))
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    counts = {"bill_rows": sum(w.rows for w in bill_writers.values()), "ground_truth_rows": truth_writer.rows}
    for writer in [*bill_writers.values(), truth_writer, *meta_writers.values()]:
        writer.close()
    for period, writer in bill_writers.items():  # as AWS delivers it: the period's files, then its manifest
        lake.write_export_manifest(out, period, export_name, writer.paths, schema, bucket=DEMO_EXPORT_BUCKET,
                                   execution_id=_hex(seed, period, n=16))
    counts.update({f"sagemaker.{name}": w.rows for name, w in meta_writers.items()})
    return counts


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        counts = generate(args.out, seed=args.seed, months=args.months, start_month=args.start_month, scale=args.scale,
                          focus_version=args.focus_version, export_name=args.export_name, progress=not args.quiet)
    except ValueError as exc:
        print(f"smcost demo: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    print(f"demo account written to {args.out} (FOCUS {args.focus_version}, seed {args.seed}, "
          f"{args.months} months, scale {args.scale}) in {elapsed:.1f}s")
    print(f"  bill rows: {counts['bill_rows']:,} ({counts['bill_rows'] / max(elapsed, 1e-9):,.0f} rows/s)")
    print(f"  ground truth rows: {counts['ground_truth_rows']:,}")
    meta = ", ".join(f"{k.split('.', 1)[1]}={v:,}" for k, v in counts.items() if k.startswith("sagemaker."))
    print(f"  metadata: {meta}")
    return 0
