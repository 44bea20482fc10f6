"""`smcost extract --mlflow-tracking-uri ...`: one tracker run, its datasets and
manifest. The account and region the runs belong to: the MLflow ARN's, else --accounts/--regions'
first, else the caller's account and the session's region."""

from __future__ import annotations

import argparse
import sys

from smcost.extractor.mlflow_source import MlflowSourceError, SageMakerMlflowArn, extract_mlflow
from smcost.extractor.trackers import TrackerRun, key_filter


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
        account, region = _scope(args)
        run = TrackerRun(args.out, account, region, args.extract_date.isoformat() if args.extract_date else None)
        keys = key_filter(args)
        extract_mlflow(run, args.mlflow_tracking_uri, keys)
        path = run.write_manifest("mlflow")
    except MlflowSourceError as exc:
        print(f"smcost extract: {exc}", file=sys.stderr)
        return 1
    rows = sum(d["rows"] for d in run.landed.values())
    print(f"complete: {rows} rows in {len(run.landed)} datasets, {sum(run.calls.values())} API calls; manifest {path}")
    return 0
