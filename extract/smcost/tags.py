"""Tag governance: check deployments for the attribution tags before they run, and render the
guardrails that enforce them, from the tag configuration dbt uses (var tag_keys in
dbt_project.yml, seeds/tag_key_aliases.csv, seeds/tag_allowed_values.csv).

  smcost tags check FILE...          pre-deployment check of SageMaker create requests (JSON),
                                     Pipelines definitions, CloudFormation/CDK templates (JSON/YAML)
  smcost tags render-guardrails      write governance/ (SCPs, tag policy, AWS Config rule, project
                                     template); --check exits 1 if a committed file is out of date
  smcost tags suggest                print the AddTags calls (shell or JSON) for every key the marts
                                     inferred with high confidence, and the coverage if applied;
                                     read-only: it never calls AWS

`check` reports every resource that lacks a required key (canonical or alias, matched as dbt
matches them) or carries a value outside seeds/tag_allowed_values.csv.
Exit status: 0 every resource compliant (warnings allowed), 1 some resource non-compliant (or
unverifiable, unless --unverifiable warn), 2 a file could not be read as one of the three kinds,
or bad arguments. docs/governance.md has CI examples (GitHub Actions, GitLab CI, Airflow) and the
rules for tags built by CloudFormation intrinsics.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from smcost.governance.tagconfig import PROJECT_DIR, ConfigError, TagConfig, load_tag_config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="<action>", required=True)
    check = actions.add_parser(
        "check",
        help="check create requests, Pipelines definitions and CloudFormation templates for the required tags",
        description="Check SageMaker create requests, Pipelines definitions and CloudFormation/CDK "
        "templates for the required tag keys and allowed values. Exit 0 compliant, 1 non-compliant, 2 bad input.",
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE", help="JSON or YAML files to check")
    check.add_argument(
        "--format", choices=["text", "json", "junit"], default="text", help="report format (default text)"
    )
    check.add_argument("--output", type=Path, help="write the report to this file instead of stdout")
    check.add_argument(
        "--request-type",
        metavar="OPERATION",
        help="the Create* operation every FILE is a request of (e.g. CreateTrainingJob), instead of detecting it by shape",
    )
    check.add_argument(
        "--unverifiable",
        choices=["fail", "warn"],
        default="fail",
        help="what tags built entirely by intrinsics (unreadable before deployment) do: fail (default) or warn",
    )
    check.add_argument(
        "--stack-tag",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a stack-level tag the template will be deployed with (CloudFormation adds it to every resource); repeatable",
    )
    check.add_argument(
        "--project-dir",
        type=Path,
        default=PROJECT_DIR,
        help="the smcost dbt project whose tag configuration to use (default: this checkout)",
    )
    render = actions.add_parser(
        "render-guardrails",
        help="write governance/ (SCPs, tag policy, AWS Config rule, project templates) from the tag configuration",
    )
    render.add_argument("--check", action="store_true", help="exit 1 if a file under governance/ is out of date")
    render.add_argument(
        "--project-dir", type=Path, default=PROJECT_DIR, help="the dbt project (default: this checkout)"
    )
    suggest = actions.add_parser(
        "suggest",
        help="print AddTags calls for the keys inferred with high confidence (read-only), with the projected coverage",
        description="Read the DuckDB marts and print, for every resource whose missing keys were inferred with "
        "high confidence (metadata link, experiment sibling), the AddTags call that would fix it, with the "
        "evidence beside it and the dollar-weighted coverage if applied. Nothing is applied. Exit 0, or 2 when "
        "the marts cannot be read.",
    )
    suggest.add_argument("--database", default="data/smcost.duckdb", help="DuckDB file (default: %(default)s)")
    suggest.add_argument(
        "--format",
        choices=["shell", "json"],
        default="shell",
        help="`aws sagemaker add-tags` commands (default) or JSON AddTags requests",
    )
    suggest.add_argument("--billing-period", metavar="YYYY-MM", help="the period to read (default: the latest)")
    suggest.add_argument("--output", type=Path, help="write to this file instead of stdout")
    suggest.add_argument(
        "--project-dir", type=Path, default=PROJECT_DIR, help="the dbt project (default: this checkout)"
    )


def run(args: argparse.Namespace) -> int:
    try:
        config = load_tag_config(args.project_dir)
    except ConfigError as exc:
        print(f"smcost tags: {exc}", file=sys.stderr)
        return 2
    if args.action == "render-guardrails":
        from smcost.governance.guardrails import render_all

        return render_all(config, args.project_dir / "governance", check=args.check)
    if args.action == "suggest":
        return _suggest(args, config)
    return _check(args, config)


def _suggest(args: argparse.Namespace, config: TagConfig) -> int:
    import re

    import duckdb

    from smcost.governance import remediation

    if args.billing_period and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.billing_period):
        print(f"smcost tags suggest: --billing-period {args.billing_period!r}: expected YYYY-MM", file=sys.stderr)
        return 2
    path = Path(args.database)
    if not path.is_file():
        print(
            f"smcost tags suggest: {path} is not a DuckDB file. Build it first: `make demo` or `dbt build --target local`.",
            file=sys.stderr,
        )
        return 2
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        print(f"smcost tags suggest: cannot open {path}: {str(exc).strip().splitlines()[0]}", file=sys.stderr)
        return 2
    with con:
        try:
            plan = remediation.build_plan(con, config, args.billing_period)
        except remediation.SuggestError as exc:
            print(f"smcost tags suggest: {path}: {exc}. Run `dbt build --target local`.", file=sys.stderr)
            return 2
        except duckdb.Error as exc:
            print(
                f"smcost tags suggest: cannot read the marts in {path}: {str(exc).strip().splitlines()[0]}. "
                "Rebuild with `dbt build --target local`.",
                file=sys.stderr,
            )
            return 2
    report = remediation.RENDERERS[args.format](plan)
    if args.output:
        args.output.write_text(report)
    else:
        sys.stdout.write(report)
    if plan.skipped:
        print(f"smcost tags suggest: {len(plan.skipped)} suggestion(s) skipped, reasons in the output", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace, config: TagConfig) -> int:
    from smcost.governance import check as checking
    from smcost.governance.documents import InputError, read_document

    stack_tags: list[tuple[str, str]] = []
    for item in args.stack_tag:
        key, sep, value = item.partition("=")
        if not sep or not key:
            print(f"smcost tags check: --stack-tag {item!r}: expected KEY=VALUE", file=sys.stderr)
            return 2
        stack_tags.append((key, value))
    files: list[checking.FileResult] = []
    for path in args.files:
        try:
            document = read_document(path, args.request_type)
        except InputError as exc:
            files.append(checking.FileResult(str(path), error=str(exc)))
            if args.format != "text":
                print(f"{path}: {exc}", file=sys.stderr)
            continue
        files.append(checking.check_document(document, config, stack_tags, args.unverifiable == "fail"))
    report = checking.RENDERERS[args.format](files)
    if args.output:
        args.output.write_text(report)
    else:
        sys.stdout.write(report)
    return checking.exit_code(files)
