"""The `smcost` command. Each subcommand lives in its own module and registers itself here.

Only the chosen subcommand's module is imported, so `smcost demo` never pays for boto3.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> (module exposing add_arguments(parser) and run(args) -> int, one-line help)
SUBCOMMANDS = {
    "demo": ("smcost.demo", "Generate a realistic demo SageMaker account (bill, metadata, ground truth)."),
    "extract": ("smcost.extractor", "Land SageMaker, CloudWatch, S3 and ECR metadata as Parquet."),
    "pipeline": ("smcost.pipeline", "The scheduled job: extract, then dbt build (incremental), under a lock."),
    "summary": ("smcost.summary", "Print what the marts say about the bill (reads the DuckDB file)."),
    "docs": ("smcost.docs", "Render generated files (dbt source YAML) from the shared schemas."),
    "athena": ("smcost.athena", "Athena setup: `smcost athena ddl` creates the lake's tables (partition projection)."),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="smcost",
        description="SageMaker cost attribution: explain the SageMaker line of an AWS bill by model, "
        "team, experiment and environment.",
        epilog="Run `smcost <command> --help` for a command's options. Quick start: `make demo`.",
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        if name != command:
            sub.add_parser(name, help=help_text)
            continue
        module = importlib.import_module(module_name)
        parser_for = sub.add_parser(name, help=help_text, description=module.__doc__,
                                    formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(parser_for)
        parser_for.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    args = build_parser(command if command in SUBCOMMANDS else None).parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
