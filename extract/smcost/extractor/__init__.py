"""Land SageMaker, CloudWatch, S3 and ECR metadata as Parquet, in the shared dataset schemas.

Reads with the standard AWS credential chain (AWS_PROFILE, an instance or task role, environment
variables) and honours AWS_ENDPOINT_URL. Writes sagemaker/<dataset>/extract_date=YYYY-MM-DD/ under
--out (a folder or s3://bucket/prefix), then a run manifest sagemaker/_runs/<run-id>.json, last:
trust only runs that have one. Each run reads what changed since the previous run's watermark.

Exit status: 0 complete; 3 partial (some account/region/dataset units failed: see the manifest's
"errors"; rerun to fill them in); 4 nothing extracted; 2 bad arguments.

Permissions: extract/iam-policy.json (read-only). Docs: docs/extract.md.
"""

from __future__ import annotations

import argparse
import logging
import sys

from tqdm import tqdm

from smcost.extractor.aws import EXPECTED_ERRORS, describe_error, last_call
from smcost.extractor.catalog import resolve
from smcost.extractor.engine import EXIT_COMPLETE, EXIT_FAILED, EXIT_PARTIAL, Extraction, RunResult
from smcost.extractor.options import Options, from_args
from smcost.extractor.options import add_arguments as _add_aws_arguments
from smcost.extractor.trackers import add_tracker_arguments, wants_trackers

__all__ = [
    "EXIT_COMPLETE",
    "EXIT_FAILED",
    "EXIT_PARTIAL",
    "Extraction",
    "Options",
    "RunResult",
    "add_arguments",
    "run",
]


class _TqdmHandler(logging.Handler):
    """Log lines that do not tear the progress bar."""

    def emit(self, record: logging.LogRecord) -> None:
        tqdm.write(self.format(record), file=sys.stderr)


def _configure_logging(verbose: bool) -> None:
    logger = logging.getLogger("smcost.extract")
    if not any(isinstance(h, _TqdmHandler) for h in logger.handlers):
        handler = _TqdmHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose or not sys.stderr.isatty() else logging.WARNING)
    logger.propagate = False


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _add_aws_arguments(parser)
    add_tracker_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if wants_trackers(args):  # a tracker run of its own (docs/lineage.md)
        from smcost.extractor.tracker_run import run_trackers

        return run_trackers(args)
    options = from_args(args)
    kinds = resolve(options.datasets)
    _configure_logging(args.verbose)
    try:
        result = Extraction(options, kinds).run()
    except EXPECTED_ERRORS as exc:  # before any unit: no credentials, STS unreachable or silent
        error = describe_error(exc, last_call())
        print(
            f"smcost extract: {error['code']}: {error['message']}"
            + (f" -> {error['hint']}" if error.get("hint") else ""),
            file=sys.stderr,
        )
        return 1
    except OSError as exc:
        print(f"smcost extract: cannot use the lake at {options.out}: {exc}", file=sys.stderr)
        return 1
    if result.status != "dry-run":
        _print_summary(result)
    return result.exit_code


def _print_summary(result: RunResult) -> None:
    manifest = result.manifest or {}
    rows = sum(d.get("rows", 0) for d in manifest.get("datasets", {}).values())
    print(
        f"{manifest.get('status')}: {rows} rows in {len(manifest.get('datasets', {}))} datasets, "
        f"{manifest.get('api_calls_total')} API calls, {len(manifest.get('errors', []))} failed units; "
        f"manifest {result.manifest_path}"
    )
    for error in manifest.get("errors", []):
        print(
            f"  {error['unit']}: {error.get('code')}: {error.get('message')}"
            + (f" -> {error['hint']}" if error.get("hint") else "")
        )
