"""Render files that are generated from the shared schemas (extract/smcost/schemas.py).

`smcost docs sources` rewrites models/staging/sagemaker/_sagemaker__sources.yml, `smcost docs
models` the staging models' YAML beside it and `smcost docs focus-sources` the FOCUS export's source
YAML (`smcost docs all`: every one); a test fails when a committed
file and the schemas disagree, so the dbt docs and key tests can never drift from what lands.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from smcost.schemas import focus_source_yaml, source_yaml, staging_models_yaml

# The checkout this package is installed from (editable install), whatever the working directory.
STAGING = Path(__file__).resolve().parents[2] / "models/staging/sagemaker"
GENERATED: dict[str, tuple[Path, Callable[[], str]]] = {
    "focus-sources": (STAGING.parent / "focus" / "_focus__sources.yml", focus_source_yaml),
    "sources": (STAGING / "_sagemaker__sources.yml", source_yaml),
    "models": (STAGING / "_sagemaker__models.yml", staging_models_yaml),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=[*GENERATED, "all"], help="which generated file to render")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file on disk is out of date")


def run(args: argparse.Namespace) -> int:
    stale = []
    for what, (path, render) in GENERATED.items():
        if args.what not in (what, "all"):
            continue
        text = render()
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(what)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}")
    for what in stale:
        print(f"{GENERATED[what][0]} is out of date: run `smcost docs {what}`")
    return 1 if stale else 0
