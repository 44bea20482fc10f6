"""Render files that are generated from the shared schemas (extract/smcost/schemas.py).

`smcost docs sources` rewrites models/staging/sagemaker/_sagemaker__sources.yml; a test fails when
the committed file and the schemas disagree, so the dbt docs can never drift from what lands.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from smcost.schemas import source_yaml

# The checkout this package is installed from (editable install), whatever the working directory.
SOURCES_PATH = Path(__file__).resolve().parents[2] / "models/staging/sagemaker/_sagemaker__sources.yml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("what", choices=["sources"], help="which generated file to render")
    parser.add_argument("--check", action="store_true", help="exit 1 if the file on disk is out of date")


def run(args: argparse.Namespace) -> int:
    text = source_yaml()
    if args.check:
        current = SOURCES_PATH.read_text() if SOURCES_PATH.exists() else ""
        if current != text:
            print(f"{SOURCES_PATH} is out of date: run `smcost docs sources`")
            return 1
        return 0
    SOURCES_PATH.parent.mkdir(parents=True, exist_ok=True)
    SOURCES_PATH.write_text(text)
    print(f"wrote {SOURCES_PATH}")
    return 0
