"""`smcost extract --mlflow-tracking-uri ...` and/or `--wandb-entity E --wandb-project P`: one tracker
run, its datasets and manifest. The account and region the runs belong to: the MLflow ARN's, else --accounts/--regions'
first, else the caller's account and the session's region."""

from __future__ import annotations

import argparse
import sys

from smcost.extractor.mlflow_source import MlflowSourceError, SageMakerMlflowArn, extract_mlflow
from smcost.extractor.trackers import TrackerRun, key_filter
from smcost.extractor.wandb_source import WandbSourceError, WandbUsageError, extract_wandb, open_api


def _scope(args: argparse.Namespace) -> tuple[str, str]:
    uri = args.mlflow_tracking_uri or ""
    if uri.startswith("arn:"):
        arn = SageMakerMlflowArn.parse(uri)
        return arn.account, arn.region
    account = args.accounts[0] if args.accounts else None
    region = args.regions[0] if args.regions else None
    if account is None or region is None:
        import boto3

        session = boto3.Session()
        region = region or session.region_name
        account = account or session.client("sts", region_name=region).get_caller_identity()["Account"]
    if not region:
        raise MlflowSourceError("no region for the tracker's runs: pass --regions or set AWS_REGION")
    return str(account), str(region)


def run_trackers(args: argparse.Namespace) -> int:
    try:
        wandb = bool(args.wandb_entity or args.wandb_project)
        if wandb and not (args.wandb_entity and args.wandb_project):
            raise WandbUsageError("--wandb-entity and --wandb-project go together")
        if wandb:
            api = open_api(
                args.wandb_entity, args.wandb_project
            )  # before anything else, the AWS scope included: a missing key is a usage error
        account, region = _scope(args)
        run = TrackerRun(args.out, account, region, args.extract_date.isoformat() if args.extract_date else None)
        keys = key_filter(args)
        sources = []
        if args.mlflow_tracking_uri:
            extract_mlflow(run, args.mlflow_tracking_uri, keys)
            sources.append("mlflow")
        if wandb:
            extract_wandb(run, args.wandb_entity, args.wandb_project, keys, lambda _e, _p: api)
            sources.append("wandb")
        path = run.write_manifest("+".join(sources))
    except (MlflowSourceError, WandbSourceError) as exc:
        print(f"smcost extract: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, WandbUsageError) else 1
    rows = sum(d["rows"] for d in run.landed.values())
    print(f"complete: {rows} rows in {len(run.landed)} datasets, {sum(run.calls.values())} API calls; manifest {path}")
    return 0
