"""Tag governance: check deployments for the attribution tags before they run, and render the
guardrails that enforce them, from the tag configuration dbt uses (var tag_keys in
dbt_project.yml, seeds/tag_key_aliases.csv, seeds/tag_allowed_values.csv).

  smcost tags check FILE...          pre-deployment check of SageMaker create requests (JSON),
                                     Pipelines definitions, CloudFormation/CDK templates (JSON/YAML)
  smcost tags render-guardrails      write governance/ (SCPs, tag policy, AWS Config rule, project
                                     template); --check exits 1 if a committed file is out of date

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


def run(args: argparse.Namespace) -> int:
    try:
        config = load_tag_config(args.project_dir)
    except ConfigError as exc:
        print(f"smcost tags: {exc}", file=sys.stderr)
        return 2
    if args.action == "render-guardrails":
        from smcost.governance.guardrails import render_all

        return render_all(config, args.project_dir / "governance", check=args.check)
    return _check(args, config)


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
