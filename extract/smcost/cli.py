"""The `smcost` command. Each subcommand lives in its own module and registers itself here.

Only the chosen subcommand's module is imported, so `smcost demo` never pays for boto3.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# subcommand -> (module exposing add_arguments(parser) and run(args) -> int, one-line help)
SUBCOMMANDS = {
    "demo": ("smcost.demo", "Generate a realistic demo SageMaker account (bill, metadata, ground truth)."),
    "extract": ("smcost.extractor", "Land SageMaker, CloudWatch, S3 and ECR metadata as Parquet."),
    "pipeline": ("smcost.pipeline", "The scheduled job: extract, then dbt build (incremental), under a lock."),
    "summary": ("smcost.summary", "Print what the marts say about the bill (reads the DuckDB file)."),
    "explain": ("smcost.explain", "Explain a month's bill on one screen: growth, idle, hidden cost, tags, actions."),
    "report": ("smcost.report", "Write the month's bill as one HTML file: charts and sortable tables, no server."),
    "export": ("smcost.export", "Export our allocations: `export focus` writes them as FOCUS 1.3 split-cost rows."),
    "docs": ("smcost.docs", "Render generated files (dbt source YAML) from the shared schemas."),
    "athena": ("smcost.athena", "Athena setup: `smcost athena ddl` creates the lake's tables (partition projection)."),
    "audit": (
        "smcost.audit",
        "Audit what runs now: tags, $/hour and coverage of running SageMaker resources; a CI gate.",
    ),
    "tags": (
        "smcost.tags",
        "Tag governance: `tags check` before deploying, `tags suggest` fixes, `tags render-guardrails`.",
    ),
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
        parser_for = sub.add_parser(
            name, help=help_text, description=module.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        module.add_arguments(parser_for)
        parser_for.set_defaults(run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = next((a for a in argv if not a.startswith("-")), None)
    try:
        args = build_parser(command if command in SUBCOMMANDS else None).parse_args(argv)  # --help copes itself
        code = int(args.run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, not as a traceback at interpreter exit
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`smcost summary | head -1`): nothing more to say to it. Point stdout
        # at devnull so Python's final flush cannot raise again (the pattern in Python's signal
        # docs), and exit as a process killed by SIGPIPE would: 128 + 13.
        _silence_stdout()
        return 141


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # no real file descriptor (e.g. captured in tests)
        pass
