"""Organisation scale: assume a role in each member account, across regions, one pool of units."""

from __future__ import annotations

import boto3
import pytest

from extractor.extract_scenario import REGION, WEST, training_job
from extractor.harness import landed
from smcost.cli import main

MEMBERS = ("111111111111", "222222222222")


def _as_member(aws, account: str, service: str, region: str):
    """A client acting in a member account (moto keys its state by the assumed role's account)."""
    credentials = aws.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/setup", RoleSessionName="scenario-setup"
    )["Credentials"]
    return boto3.client(
        service,
        region_name=region,
        endpoint_url=aws.url,
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def test_assumes_the_role_in_every_member_account_and_lands_each_accounts_rows(aws, extract):
    for account in MEMBERS:
        for region in (REGION, WEST):
            training_job(_as_member(aws, account, "sagemaker", region), f"job-{account[:3]}-{region}")
    result = extract(
        "--accounts",
        ",".join(MEMBERS),
        "--role-name",
        "smcost-read",
        "--regions",
        f"{REGION},{WEST}",
        "--datasets",
        "training_jobs,log_groups",
    )
    rows = landed(extract.out, "training_jobs")
    assert sorted((r["account_id"], r["region"], r["training_job_name"]) for r in rows) == sorted(
        (account, region, f"job-{account[:3]}-{region}") for account in MEMBERS for region in (REGION, WEST)
    )
    assert all(r["training_job_arn"].split(":")[4] == r["account_id"] for r in rows)
    assert result.manifest["api_calls"]["sts:AssumeRole"] == 2  # once per account, not per unit or region
    assert len(result.units) == 2 * 2 * 2


def test_an_account_whose_role_cannot_be_assumed_fails_alone(aws, extract):
    for account in MEMBERS:
        training_job(_as_member(aws, account, "sagemaker", REGION), f"job-{account}")
    aws.faults.add("AccessDenied", service="sts", operation="AssumeRole", body_contains=MEMBERS[1])
    result = extract(
        "--accounts",
        ",".join(MEMBERS),
        "--role-name",
        "smcost-read",
        "--datasets",
        "training_jobs,log_groups",
        expect="partial",
    )
    errors = {e["unit"]: e["kind"] for e in result.manifest["errors"]}
    assert errors == {
        f"{MEMBERS[1]}/{REGION}/training_jobs": "AssumeRoleFailed",
        f"{MEMBERS[1]}/{REGION}/log_groups": "AssumeRoleFailed",
    }
    assert [r["training_job_name"] for r in landed(extract.out, "training_jobs")] == [f"job-{MEMBERS[0]}"]
    assert result.manifest["api_calls"]["sts:AssumeRole"] == 2  # the failure is not retried per unit


def test_member_accounts_need_a_role_to_assume(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["extract", "--accounts", MEMBERS[0], "--dry-run"])
    assert exit_.value.code == 2
    assert "--accounts needs --role-name or --role-arn-template" in capsys.readouterr().err
