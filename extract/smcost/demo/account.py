"""The demo account: who owns what. The payer and its two member accounts, the regions and prices,
the six teams' thirteen models, how their resources are tagged, and how AWS names things."""

from __future__ import annotations

import hashlib

from smcost.demo.clock import utc

PAYER = ("999988887777", "acme-payer")
ACCOUNTS = {  # key -> (account id, account name, environment)
    "prod": ("111122223333", "acme-ml-prod", "production"),
    "dev": ("444455556666", "acme-ml-dev", "development"),
}
REGIONS = {  # region -> (usage type prefix, region name, price multiplier)
    "us-east-1": ("USE1", "US East (N. Virginia)", 1.0),
    "eu-west-1": ("EU", "Europe (Ireland)", 1.12),
}
# service code -> (ServiceName, ServiceCategory, ServiceSubcategory) as the FOCUS export spells them.
SERVICES = {
    "AmazonSageMaker": ("Amazon SageMaker", "AI and Machine Learning", "AI Platforms"),
    "MachineLearningSavingsPlans": ("Savings Plans for Machine Learning", "AI and Machine Learning", "AI Platforms"),
    "AmazonS3": ("Amazon Simple Storage Service", "Storage", "Object Storage"),
    "AmazonECR": ("Amazon EC2 Container Registry (ECR)", "Storage", "Other (Storage)"),
    "AmazonCloudWatch": ("AmazonCloudWatch", "Management and Governance", "Observability"),
    "AmazonEC2": ("Amazon Elastic Compute Cloud", "Compute", "Virtual Machines"),
    "AmazonEFS": ("Amazon Elastic File System", "Storage", "File Storage"),
    "AmazonFSx": ("Amazon FSx", "Storage", "File Storage"),
    "AWSDataTransfer": ("AWS Data Transfer", "Networking", "Network Connectivity"),
}
# The services whose charges the ground truth covers: dbt's var sagemaker_service_codes
# (dbt_project.yml); the tests keep their own copy as an independent oracle.
SAGEMAKER_SCOPE = {"AmazonSageMaker", "MachineLearningSavingsPlans"}
# The neighbours whose charges can be part of a model's fully-loaded cost (seeds/neighbour_cost_scope.csv):
# the ground truth covers every charge of theirs the demo books, but those booked ``outside_scope()``.
NEIGHBOUR_SCOPE = {
    "AmazonS3",
    "AmazonECR",
    "AmazonCloudWatch",
    "AWSDataTransfer",
    "AmazonEFS",
    "AmazonFSx",
    "AmazonEC2",
}

# On-demand $/hour in us-east-1 for the SageMaker instance types the scenario uses.
PRICES = {
    "ml.t3.medium": 0.05,
    "ml.t3.xlarge": 0.20,
    "ml.m5.xlarge": 0.23,
    "ml.m5.2xlarge": 0.461,
    "ml.m5.4xlarge": 0.922,
    "ml.c5.2xlarge": 0.408,
    "ml.c5.4xlarge": 0.816,
    "ml.g4dn.xlarge": 0.7364,
    "ml.g5.xlarge": 1.408,
    "ml.g5.2xlarge": 1.515,
    "ml.g5.4xlarge": 2.03,
    "ml.g5.12xlarge": 7.09,
    "ml.g5.48xlarge": 20.36,
    "ml.p3.2xlarge": 3.825,
    "ml.p4d.24xlarge": 37.688,
}
# vCPUs and GPUs per ML instance type: the seeds/instance_type_capacity.csv figures (CloudWatch
# reports CPU utilisation summed over the vCPUs and GPU utilisation over the GPUs).
CAPACITY = {
    "ml.t3.medium": (2, 0),
    "ml.t3.xlarge": (4, 0),
    "ml.m5.xlarge": (4, 0),
    "ml.m5.2xlarge": (8, 0),
    "ml.m5.4xlarge": (16, 0),
    "ml.c5.2xlarge": (8, 0),
    "ml.c5.4xlarge": (16, 0),
    "ml.g4dn.xlarge": (4, 1),
    "ml.g4dn.12xlarge": (48, 4),
    "ml.g5.xlarge": (4, 1),
    "ml.g5.2xlarge": (8, 1),
    "ml.g5.4xlarge": (16, 1),
    "ml.g5.12xlarge": (48, 4),
    "ml.g5.24xlarge": (96, 4),
    "ml.g5.48xlarge": (192, 8),
    "ml.g6.12xlarge": (48, 4),
    "ml.g6.48xlarge": (192, 8),
    "ml.p3.2xlarge": (8, 1),
    "ml.p4d.24xlarge": (96, 8),
    "ml.p5.48xlarge": (192, 8),
}


def next_size_down(instance: str) -> str | None:
    """The type of the same family with the next smaller vCPU count, if there is one with a price."""
    family = instance.rsplit(".", 1)[0]
    smaller = [
        (vcpus, other)
        for other, (vcpus, _) in CAPACITY.items()
        if other.rsplit(".", 1)[0] == family and vcpus < CAPACITY[instance][0]
    ]
    if not smaller:
        return None
    below = max(smaller)[1]
    return below if below in PRICES else None


SPOT_DISCOUNT = 0.30  # spot price = 30% of on-demand
SP_RATE = 0.64  # Savings Plan rate = 64% of on-demand
SP_HOURLY_COMMITMENT = 1.00  # $/hour
SP_ARN = f"arn:aws:savingsplans::{PAYER[0]}:savingsplan/6f1c0a2e-demo-4ml0-9sp0-000000000001"


def savings_plan_arn(suffix: str) -> str:
    """Each replica holds its own plan: with one ARN, --scale N would bill N identical fee rows per
    hour, which no export holds (and the duplicate-row test rightly rejects across files)."""
    return SP_ARN + suffix


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

# Where training reads its data (an input channel, a prefix of the account's features bucket): models
# sharing a prefix share its storage. vision-ocr's development runs read a labelling bucket the
# extractor may not list; nlp-summarizer's development fine-tunes also mount an FSx for Lustre volume.
TRAINING_DATA = {
    "fraud-xgb": "transactions/v5/",
    "fraud-gnn": "transactions/v5/",
    "search-ranker": "clickstream/v3/",
    "query-embedder": "queries/2026/",
    "recsys-two-tower": "clickstream/v3/",
    "recsys-reranker": "clickstream/v3/",
    "vision-classifier": "images/catalogue-2026/",
    "vision-ocr": "documents/scans/",
    "churn-predictor": "customers/daily/",
    "ltv-model": "customers/daily/",
    "price-forecaster": "customers/daily/",
    "nlp-summarizer": "corpus/news-2026/",
    "nlp-sentiment": "corpus/reviews/",
    "support-llm": "corpus/support-tickets/",  # the story's fine-tunes (story.py)
}
UNLISTED_BUCKET = "acme-vision-labelling"  # development; ListBucket is denied to the extractor
FSX_MODELS = {"nlp-summarizer"}
# Models whose jobs checkpoint to S3 (the deep-learning ones); the others write only their artifact.
CHECKPOINTING = {m for m, (_, instance, _) in MODELS.items() if not instance.startswith(("ml.m5", "ml.c5"))}

# How each training job's tags look, with the share of jobs drawn from each profile.
TAG_PROFILES = [
    ("bill", 0.55),
    ("drift", 0.10),
    ("api_only", 0.10),
    ("experiment", 0.10),
    ("rule", 0.10),
    ("none", 0.05),
]
# The evidence that reveals the owner of a resource tagged with each profile.
EVIDENCE = {
    "bill": "bill_tag",
    "drift": "bill_tag",
    "api_only": "api_tag",
    "experiment": "metadata",
    "rule": "rule",
    "none": "none",
}

Tags = dict[str, str]


def account_id(acct: str) -> str:
    return ACCOUNTS[acct][0]


def environment(acct: str) -> str:
    return ACCOUNTS[acct][2]


def arn(acct: str, region: str, kind: str, name: str) -> str:
    """A SageMaker ARN; SageMaker lowercases resource names in ARNs."""
    return f"arn:aws:sagemaker:{region}:{account_id(acct)}:{kind}/{name.lower()}"


def role_arn(acct: str, name: str) -> str:
    return f"arn:aws:iam::{account_id(acct)}:role/{name}"


def ecr_uri(acct: str, region: str, repository: str) -> str:
    return f"{account_id(acct)}.dkr.ecr.{region}.amazonaws.com/{repository}"


def ecr_repository_arn(acct: str, region: str, repository: str) -> str:
    return f"arn:aws:ecr:{region}:{account_id(acct)}:repository/{repository}"


def log_group_arn(acct: str, region: str, group: str) -> str:
    return f"arn:aws:logs:{region}:{account_id(acct)}:log-group:{group}"


def artifacts_bucket(acct: str, suffix: str) -> str:
    """Where SageMaker writes: job outputs, checkpoints, deployed model artifacts."""
    return f"acme-ml-artifacts-{acct}{suffix}"


def features_bucket(acct: str, suffix: str) -> str:
    """Where training and scoring read from: the TB-scale datasets."""
    return f"acme-ml-features-{acct}{suffix}"


def training_inputs(acct: str, model: str, suffix: str) -> list[str]:
    """The S3 input channels of a model's training jobs in an account."""
    if model == "vision-ocr" and acct == "dev":
        return [f"s3://{UNLISTED_BUCKET}{suffix}/ocr-labels/"]
    return [f"s3://{features_bucket(acct, suffix)}/{TRAINING_DATA[model]}"]


def file_system_id(kind: str, suffix: str) -> str:
    """An EFS or FSx file-system id (fs- and 17 hex digits)."""
    return f"fs-0{short_hash(kind, suffix, n=16)}"


def file_system_arn(acct: str, region: str, service: str, fs_id: str) -> str:
    return f"arn:aws:{service}:{region}:{account_id(acct)}:file-system/{fs_id}"


def short_hash(*parts: object, n: int = 8) -> str:
    """A stable hex token for names AWS would make up (SKUs, job suffixes, ids)."""
    return hashlib.sha1("|".join(map(str, parts)).encode()).hexdigest()[:n]


def experiment_name(model: str, suffix: str) -> str:
    return f"{model}-experiment{suffix}"


def trial_name(model: str, month_ms: int, suffix: str) -> str:
    return f"{model}-trial-{utc(month_ms):%Y%m}{suffix}"


def tags_for(profile: str, model: str | None, team: str, experiment: str | None, env: str) -> tuple[Tags, Tags]:
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
