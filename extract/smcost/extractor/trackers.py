"""Experiment trackers as attribution evidence: the flags, the key filter
that keeps params and tags out of the lake unless allowed, and the landing of a tracker run through
the lake's writer and run manifests (docs/lineage.md).

A tracker run lands its datasets and writes a manifest under sagemaker/_runs/ like any extraction;
the manifest carries every earlier watermark forward, so the SageMaker runs and the tracker runs
share one chain of manifests without losing each other's incremental state.

Credentials never come from flags: MLflow's own environment variables (MLFLOW_TRACKING_TOKEN,
MLFLOW_TRACKING_USERNAME/PASSWORD), the AWS chain for SageMaker managed MLflow, WANDB_API_KEY for
Weights & Biases (extractor/wandb_source.py).
"""

from __future__ import annotations

import argparse
import fnmatch
import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import pyarrow as pa

from smcost import lake
from smcost.extractor.state import LakeState, conform
from smcost.schemas import DATASETS

log = logging.getLogger("smcost.extract")

# The run tags and W&B config keys that name the SageMaker training job a run belongs to, compared
# lowercased. sagemaker.training_job_name: our convention (docs/lineage.md); TRAINING_JOB_NAME: the
# environment variable SageMaker sets in the training container, logged as a tag or param by
# `mlflow.set_tag("TRAINING_JOB_NAME", os.environ["TRAINING_JOB_NAME"])`; sagemaker_job_name and
# sagemaker.job_name: common spellings. macros/tracker_evidence_keys.sql holds the same list (a
# test checks they agree).
JOB_NAME_KEYS = ("sagemaker.training_job_name", "training_job_name", "sagemaker_job_name", "sagemaker.job_name")
# The keys whose values are the owner: the project's canonical tag keys as tracker tags, and the
# instance type the time-window match compares.
OWNER_KEYS = ("ml:team", "team", "ml:model", "model", "ml:environment", "environment", "ml:experiment")
INSTANCE_TYPE_KEYS = ("sagemaker.instance_type", "instance_type")
# MLflow's own system tags worth keeping: the run's user and the source name are names, not secrets.
SYSTEM_KEYS = ("mlflow.user", "mlflow.runname", "mlflow.source.name")
DEFAULT_ALLOW = (*JOB_NAME_KEYS, *OWNER_KEYS, *INSTANCE_TYPE_KEYS, *SYSTEM_KEYS)


@dataclass(frozen=True)
class KeyFilter:
    """Which param/tag/config keys land: allowed (glob, case-insensitive) and not denied. The default
    allows only the keys attribution reads plus names; a deny pattern wins over an allow."""

    allow: tuple[str, ...] = DEFAULT_ALLOW
    deny: tuple[str, ...] = ()

    def keeps(self, key: str) -> bool:
        k = key.lower()
        if any(fnmatch.fnmatchcase(k, p.lower()) for p in self.deny):
            return False
        return any(fnmatch.fnmatchcase(k, p.lower()) for p in self.allow)

    def apply(self, pairs: Iterable[tuple[str, Any]]) -> list[tuple[str, str]]:
        return sorted((str(k), str(v)) for k, v in pairs if v is not None and self.keeps(str(k)))


def add_tracker_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "experiment trackers (docs/lineage.md; credentials only from the environment or the AWS chain)"
    )
    group.add_argument(
        "--mlflow-tracking-uri",
        help="land MLflow experiments, runs and model versions from this server: http(s)://host[:port] "
        "(MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD from the environment) or a SageMaker "
        "MLflow ARN, arn:aws:sagemaker:<region>:<account>:mlflow-tracking-server/<name> or mlflow-app/<id> "
        "(signed with the AWS chain, as the sagemaker-mlflow plugin does)",
    )
    group.add_argument(
        "--wandb-entity",
        help="land the runs of this W&B entity's --wandb-project through wandb.Api (key: WANDB_API_KEY from "
        "the environment; WANDB_BASE_URL for a self-hosted server)",
    )
    group.add_argument("--wandb-project", help="the W&B project whose runs land (with --wandb-entity)")
    group.add_argument(
        "--tracker-allow-keys",
        default=",".join(DEFAULT_ALLOW),
        help="comma-separated glob patterns of the param/tag/config keys to land (default: the keys "
        "attribution reads plus names)",
    )
    group.add_argument(
        "--tracker-deny-keys", default="", help="comma-separated glob patterns never landed (wins over allow)"
    )


def wants_trackers(args: argparse.Namespace) -> bool:
    return any(getattr(args, name, None) for name in ("mlflow_tracking_uri", "wandb_entity", "wandb_project"))


def key_filter(args: argparse.Namespace) -> KeyFilter:
    def split(value: str) -> tuple[str, ...]:
        return tuple(p.strip() for p in value.split(",") if p.strip())

    return KeyFilter(split(args.tracker_allow_keys), split(args.tracker_deny_keys))


@dataclass
class TrackerRun:
    """One tracker extraction: what it read, per dataset, and the calls it made."""

    out: str
    account_id: str
    region: str
    extract_date: str | None = None
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(tzinfo=None))
    calls: Counter[str] = field(default_factory=Counter)
    watermarks: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.started_at = self.started_at.replace(microsecond=self.started_at.microsecond // 1000 * 1000)
        self.extract_date = self.extract_date or self.started_at.date().isoformat()
        millis = self.started_at.microsecond // 1000
        self.run_id = f"{self.started_at:%Y%m%dT%H%M%S}{millis:03d}Z-{uuid.uuid4().hex[:6]}"
        self.state = LakeState(self.out)
        self.previous_manifest = self.state.latest_manifest() or {}
        self.landed: dict[str, dict[str, Any]] = {}

    def watermark(self, key: str) -> str | None:
        value = self.previous_manifest.get("watermarks", {}).get(key)
        return str(value) if value else None

    def common(self) -> dict[str, Any]:
        return {"account_id": self.account_id, "region": self.region, "extracted_at": self.started_at}

    def land(self, dataset: str, rows: list[dict[str, Any]], *, replaces: tuple[str, ...] | None = None) -> None:
        """Write ``dataset``'s partition: ``rows``, plus (when ``replaces`` names the key columns of an
        incremental read) the previous partition's rows of this account and region not read again."""
        ds = DATASETS[dataset]
        table = lake.rows_to_table([{**self.common(), **r} for r in rows], ds.schema, dataset=dataset)
        kept = 0
        tables = [table]
        previous = self.state.latest_partition_date(dataset, self.extract_date or "")
        if replaces is not None and previous is not None:
            seen = set(zip(*(table.column(c).to_pylist() for c in replaces), strict=True))
            for batch in self.state.iter_batches(dataset, previous, ds.schema, 100_000):
                batch = conform(batch, ds.schema)
                keep = [
                    not (a == self.account_id and r == self.region and key in seen)
                    for a, r, key in zip(
                        batch.column("account_id").to_pylist(),
                        batch.column("region").to_pylist(),
                        zip(*(batch.column(c).to_pylist() for c in replaces), strict=True),
                        strict=True,
                    )
                ]
                batch = batch.filter(pa.array(keep, type=pa.bool_()))
                kept += batch.num_rows
                tables.append(batch)
        partition = lake.dataset_partition(dataset, self.extract_date or "")
        lake.write_partition(self.out, partition, ds.schema, tables)
        self.landed[dataset] = {
            "partition": partition,
            "rows": table.num_rows + kept,
            "rows_read": table.num_rows,
            "rows_kept": kept,
        }

    def write_manifest(self, source: str) -> str:
        finished = datetime.now(timezone.utc).replace(tzinfo=None)
        manifest = {
            "run_id": self.run_id,
            "status": "complete",
            "source": source,
            "extract_date": self.extract_date,
            "started_at": self.started_at.isoformat(timespec="milliseconds"),
            "finished_at": finished.isoformat(timespec="milliseconds"),
            "out": self.out,
            "accounts": [self.account_id],
            "regions": [self.region],
            "datasets": self.landed,
            "api_calls": dict(sorted(self.calls.items())),
            "api_calls_total": sum(self.calls.values()),
            "units": [],
            "errors": [],
            # Every earlier watermark carried forward: the next SageMaker run starts from its own.
            "watermarks": dict(sorted({**self.previous_manifest.get("watermarks", {}), **self.watermarks}.items())),
        }
        return self.state.write_manifest(self.run_id, manifest)


def millis(value: Any) -> datetime | None:
    """An epoch-milliseconds value as a naive UTC datetime (None for absent or 0)."""
    if value in (None, "", 0, "0"):
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc).replace(tzinfo=None)
