"""Generate a realistic demo SageMaker account: the FOCUS bill, the landed metadata, the truth.

Writes, under --out (the lake root):
  billing/sagemaker-focus/data/BILLING_PERIOD=YYYY-MM/*.parquet   FOCUS 1.2 (or 1.0) with AWS columns
  sagemaker/<dataset>/extract_date=YYYY-MM-DD/*.parquet            the extractor's datasets
  demo/ground_truth/*.parquet                                      the true owner of every dollar
  demo/ground_truth_findings/*.parquet                             what is idle, forgotten, oversized, and why it grew

Deterministic for a given --seed. --scale N replicates the scenario N times (names suffixed -rK),
streaming each replica to disk so memory stays flat however many rows are written.

The scenario: two accounts (production, development) in two regions, six teams, fourteen models,
and the mission's story (story.py): the SageMaker bill grows about $29k -> $38k -> $47k over the
three default months through a growing team's on-demand fine-tunes, forgotten staging endpoints and
GPU notebooks left on. Around it: on-demand, spot, heterogeneous, HPO and warm-pool training;
real-time endpoints that scale, one deleted and re-created under the same name; a multi-model
endpoint with uneven traffic; an inference-component endpoint; serverless and async endpoints;
hourly invocations and utilisation; batch transform; processing under a data-prep role; idle
notebooks; Studio apps; storage and data transfer; S3, ECR, CloudWatch and a
plain EC2 g5 instance beside them; a Machine Learning Savings Plan; a credit, a refund, tax and a
correction restating an earlier period. Tags as in real life: some complete, some drifting, some
only on the API side, some missing.
"""

from __future__ import annotations

import argparse
import sys
import time

from smcost import lake
from smcost.demo import (
    commitments,
    endpoints,
    hyperpod,
    inference_component_shapes,
    inference_components,
    multi_model,
    neighbours,
    notebooks,
    processing,
    retraining_pipeline,
    story,
    trackers,
    training,
    training_plans,
)
from smcost.demo.clock import month_starts
from smcost.demo.ledger import Ledger
from smcost.demo.options import add_arguments, check_options
from smcost.demo.writer import LakeWriter, billing_periods, clear_previous_demo, to_tables

__all__ = ["Ledger", "add_arguments", "build", "check_options", "generate", "run", "to_tables"]


def build(seed: int, replica: int, start_month: str, months: int) -> Ledger:
    """One replica of the account, case by case. The order is part of the output: the cases draw
    from one random generator, and the correction restates a training job booked before it."""
    ledger = Ledger(seed, replica, start_month, months)
    training.add_experiments_and_trials(ledger)
    training.add_training(ledger)
    training.add_reused_job_name(ledger)
    processing.add_processing_and_transform(ledger)
    plan = endpoints.add_single_model_endpoints(ledger)
    endpoints.add_recreated_endpoint(ledger)
    multi_model.add_multi_model_endpoint(ledger)
    inference_components.add_inference_component_endpoint(ledger)
    endpoints.add_serverless_and_async(ledger)
    notebooks.add_notebooks_and_studio(ledger)
    story.add_story(ledger)
    commitments.add_commitments_and_adjustments(ledger, plan)
    neighbours.add_neighbours(ledger)
    hyperpod.add_hyperpod_clusters(ledger)  # last, and drawing no random numbers: the others keep theirs
    retraining_pipeline.add_retraining_pipeline(ledger)  # after it, drawing none either
    inference_component_shapes.add_inference_component_shapes(ledger)  # after them, drawing none either
    training_plans.add_training_plan_and_flexible_jobs(ledger)  # after them, drawing none either
    trackers.add_tracked_experiment(ledger)  # last: it only relabels and lands metadata, drawing nothing
    return ledger


def generate(
    out: str,
    *,
    seed: int = 42,
    months: int = 3,
    start_month: str = "2026-08",
    scale: int = 1,
    focus_version: str = "1.2",
    export_name: str = lake.DEFAULT_EXPORT_NAME,
    progress: bool = False,
) -> dict[str, int]:
    """Write the demo account under ``out``; returns counts per output."""
    check_options(months=months, start_month=start_month, scale=scale, seed=seed, export_name=export_name)
    clear_previous_demo(out, export_name)
    writer = LakeWriter(out, billing_periods(month_starts(start_month, months)), focus_version, export_name)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=scale, unit="replica", desc="demo account", disable=not sys.stderr.isatty())
    for replica in range(scale):
        writer.write(build(seed, replica, start_month, months))
        if bar:
            bar.update(1)
    if bar:
        bar.close()
    return writer.close(seed)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        counts = generate(
            args.out,
            seed=args.seed,
            months=args.months,
            start_month=args.start_month,
            scale=args.scale,
            focus_version=args.focus_version,
            export_name=args.export_name,
            progress=not args.quiet,
        )
    except ValueError as exc:
        print(f"smcost demo: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - started
    print(
        f"demo account written to {args.out} (FOCUS {args.focus_version}, seed {args.seed}, "
        f"{args.months} months, scale {args.scale}) in {elapsed:.1f}s"
    )
    print(f"  bill rows: {counts['bill_rows']:,} ({counts['bill_rows'] / max(elapsed, 1e-9):,.0f} rows/s)")
    print(f"  ground truth rows: {counts['ground_truth_rows']:,} (findings: {counts['ground_truth_findings_rows']:,})")
    meta = ", ".join(f"{k.split('.', 1)[1]}={v:,}" for k, v in counts.items() if k.startswith("sagemaker."))
    print(f"  metadata: {meta}")
    return 0
