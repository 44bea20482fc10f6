"""Notebook instances (one always on, one started for office hours, one tagged nowhere, one
nobody's) and a Studio domain whose three users each run a JupyterLab space in office hours."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from smcost.demo.account import EVIDENCE, GENERIC_ROLE, PRICES, arn, environment, file_system_id, role_arn, short_hash
from smcost.demo.clock import DAY_MS, hour_of_day, utc
from smcost.demo.ledger import Charge, Ledger, Owner, only

ACCT, REGION = "dev", "us-east-1"
STUDIO_USERS = (("alice", "fraud", "ml.t3.medium"), ("bob", "search", "ml.g5.xlarge"), ("carol", "nlp", "ml.t3.medium"))


def add_notebooks_and_studio(ledger: Ledger) -> None:
    notebooks: list[tuple[str, str, str | None, str, str, bool]] = [
        # name, instance, team, role, profile, always_on
        (f"fraud-eda{ledger.suffix}", "ml.t3.xlarge", "fraud", "fraud-sagemaker-training", "bill", True),
        (f"vision-gpu-nb{ledger.suffix}", "ml.g4dn.xlarge", "vision", "vision-sagemaker-training", "bill", False),
        (f"recsys-explore{ledger.suffix}", "ml.m5.xlarge", "recsys", "recsys-data-science", "rule", True),
        (f"scratch-nb{ledger.suffix}", "ml.t3.medium", None, GENERIC_ROLE, "none", True),
    ]
    for notebook in notebooks:
        add_notebook(ledger, *notebook)
    _add_studio(ledger)


def add_notebook(
    ledger: Ledger,
    name: str,
    instance: str,
    team: str | None,
    role: str,
    profile: str,
    always_on: bool,
    *,
    started: int | None = None,
) -> str:
    """A notebook instance running since ``started`` (default: before the first month), all the
    time or in office hours; returns its ARN."""
    env = environment(ACCT)
    notebook_arn = arn(ACCT, REGION, "notebook-instance", name)
    started = ledger.t0 - DAY_MS if started is None else started
    hours = ledger.hours(started, ledger.t1)
    created = ledger.t0 - 100 * DAY_MS if started < ledger.t0 else started
    if not always_on:  # started in the morning, stopped in the evening, weekdays
        hod = hour_of_day(hours)
        dow = ((hours // DAY_MS) + 3) % 7  # 1970-01-01 was a Thursday
        hours = hours[(hod >= 8) & (hod < 19) & (dow < 5)]
    bill_tags = {"ml:team": team, "ml:environment": env} if profile == "bill" and team else {}
    owner = Owner(None, team, None, env, EVIDENCE[profile])
    ledger.charge(
        Charge(
            acct=ACCT,
            region=REGION,
            resource_id=notebook_arn,
            usage=f"Notebk:{instance}",
            start_ms=hours,
            quantity=np.ones(len(hours)),
            unit="Hrs",
            list_rate=PRICES[instance],
            owners=only(owner),
            bill_tags=bill_tags,
        )
    )
    ledger.metadata(
        "notebook_instances",
        ACCT,
        REGION,
        notebook_instance_arn=notebook_arn,
        notebook_instance_name=name,
        notebook_instance_status="InService" if always_on else "Stopped",
        instance_type=instance,
        created_at=utc(created),
        last_modified_at=utc(created),
        role_arn=role_arn(ACCT, role),
        tags=bill_tags,
    )
    return notebook_arn


def _add_studio(ledger: Ledger) -> None:
    """A Studio domain, and per user a profile, a space and its JupyterLab app."""
    created = utc(ledger.t0 - 200 * DAY_MS)
    domain = f"d-demo{short_hash('domain', ledger.suffix, n=6)}"
    ledger.metadata(
        "studio_domains",
        ACCT,
        REGION,
        domain_id=domain,
        domain_arn=arn(ACCT, REGION, "domain", domain),
        domain_name=f"ml-studio{ledger.suffix}",
        home_efs_file_system_id=file_system_id("efs", ledger.suffix),
        created_at=created,
        tags={},
    )
    for user, team, instance in STUDIO_USERS:
        _add_studio_user(ledger, domain, created, user, team, instance)


def _add_studio_user(ledger: Ledger, domain: str, created: datetime, user: str, team: str, instance: str) -> None:
    """A user's profile, space and JupyterLab app. The app bills in office hours and carries no
    tags: a rule on the user profile names the team."""
    ledger.metadata(
        "studio_user_profiles",
        ACCT,
        REGION,
        domain_id=domain,
        user_profile_name=user,
        user_profile_arn=arn(ACCT, REGION, "user-profile", f"{domain}/{user}"),
        execution_role_arn=role_arn(ACCT, GENERIC_ROLE),
        created_at=created,
        tags={},
    )
    space = f"{user}-space"
    ledger.metadata(
        "studio_spaces",
        ACCT,
        REGION,
        domain_id=domain,
        space_name=space,
        space_arn=arn(ACCT, REGION, "space", f"{domain}/{space}"),
        owner_user_profile_name=user,
        created_at=created,
        tags={},
    )
    app_arn = arn(ACCT, REGION, "app", f"{domain}/{space}/jupyterlab/default")
    ledger.metadata(
        "studio_apps",
        ACCT,
        REGION,
        app_arn=app_arn,
        domain_id=domain,
        user_profile_name=None,
        space_name=space,
        app_type="JupyterLab",
        app_name="default",
        app_status="InService",
        instance_type=instance,
        created_at=created,
        tags={},
    )
    hours = ledger.hours(ledger.t0, ledger.t1)
    hod = hour_of_day(hours)
    hours = hours[(hod >= 9) & (hod < 18)]
    ledger.charge(
        Charge(
            acct=ACCT,
            region=REGION,
            resource_id=app_arn,
            usage=f"Studio:JupyterLab-{instance}",
            start_ms=hours,
            quantity=np.ones(len(hours)),
            unit="Hrs",
            list_rate=PRICES[instance],
            owners=only(Owner(None, team, None, environment(ACCT), "rule")),
        )
    )
