"""Render files that are generated from the shared schemas (extract/smcost/schemas.py) and the
extractor's kinds (extract/smcost/extractor).

`smcost docs sources` rewrites models/staging/sagemaker/_sagemaker__sources.yml, `smcost docs
models` the staging models' YAML beside it, `smcost docs focus-sources` the FOCUS export's source
YAML and `smcost docs extract-kinds` the table of what each dataset reads in docs/extract.md
(`smcost docs all`: every one); a test fails when a committed file and its source disagree, so the
dbt docs, key tests and extractor docs can never drift from what lands.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from smcost.schemas import focus_source_yaml, source_yaml, staging_models_yaml

# The checkout this package is installed from (editable install), whatever the working directory.
REPO = Path(__file__).resolve().parents[2]
STAGING = REPO / "models/staging/sagemaker"
EXTRACT_DOC = REPO / "docs/extract.md"

# docs/extract.md is written by hand around one generated section, between these lines.
KINDS_BEGIN = "<!-- rendered by `smcost docs extract-kinds` from the extractor's kinds: do not edit by hand -->"
KINDS_END = "<!-- end of `smcost docs extract-kinds` -->"


def extract_kinds_markdown() -> str:
    """The table of what each dataset reads, from the kinds' declarations."""
    from smcost.extractor.catalog import KINDS  # boto3, for this file only

    lines = ["| Dataset | Calls | Across runs | Needs first | IAM actions |", "|---|---|---|---|---|"]
    for kind in KINDS.values():
        needs = ", ".join(f"`{n}`" for n in kind.needs)
        actions = ", ".join(f"`{a}`" for a in kind.actions)
        lines.append(f"| `{kind.dataset}` | {kind.reads} | {kind.across_runs} | {needs} | {actions} |")
    return "\n".join(lines)


def _extract_doc() -> str:
    text = EXTRACT_DOC.read_text()
    before, begin, rest = text.partition(KINDS_BEGIN)
    _, end, after = rest.partition(KINDS_END)
    if not begin or not end:
        raise ValueError(f"{EXTRACT_DOC} has lost the lines around its generated table: {KINDS_BEGIN} ... {KINDS_END}")
    return f"{before}{KINDS_BEGIN}\n{extract_kinds_markdown()}\n{KINDS_END}{after}"


GENERATED: dict[str, tuple[Path, Callable[[], str]]] = {
    "focus-sources": (STAGING.parent / "focus" / "_focus__sources.yml", focus_source_yaml),
    "sources": (STAGING / "_sagemaker__sources.yml", source_yaml),
    "models": (STAGING / "_sagemaker__models.yml", staging_models_yaml),
    "extract-kinds": (EXTRACT_DOC, _extract_doc),
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
