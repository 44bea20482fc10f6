"""Weights & Biases as a source: the runs of one entity/project, read through W&B's own public API
client (``wandb.Api().runs(f"{entity}/{project}", filters=...)``), incrementally by created and
updated time, landed as dataset ``wandb_runs`` (docs/lineage.md).

W&B's SageMaker integration (wandb/integration/sagemaker/resources.py) sets the run group to the
training job's name (TRAINING_JOB_NAME) and the run id to ``<job>-<random>-<host>`` (CURRENT_HOST,
algo-1, algo-2, ...): one run per host. The host is read from that id, so no per-run call (the run's
metadata file) is needed: one GraphQL page a ``PAGE`` runs, plus the client's one credential check.

The API key comes only from WANDB_API_KEY (WANDB_BASE_URL for a self-hosted server, read by wandb
itself); it is handed to ``wandb.Api`` and nowhere else: never logged, landed or put in a manifest.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from smcost.extractor.trackers import KeyFilter, TrackerRun

PAGE = 500  # runs a GraphQL page: config is fetched with the page (lazy=False), not per run
OVERLAP = timedelta(hours=1)  # re-read an hour before the watermark: clock skew, late heartbeats
TIMEOUT = 60


class WandbSourceError(RuntimeError):
    """W&B could not be read: the message says what to do next."""


class WandbUsageError(WandbSourceError):
    """Asked for wrongly (no key in the environment, an entity without a project): exit status 2."""


def open_api(entity: str, project: str) -> Any:
    """A ``wandb.Api`` authenticated with WANDB_API_KEY (and nothing else: no netrc, no prompt).

    The entity and project go in as the client's defaults: without them ``Api.runs`` asks the server
    for the viewer's default entity (a GetDefaultEntity query) even when the path names one."""
    key = os.environ.get("WANDB_API_KEY", "").strip()
    if not key:
        raise WandbUsageError(
            "--wandb-entity/--wandb-project need the W&B API key in the environment variable "
            "WANDB_API_KEY (never a flag); WANDB_BASE_URL for a self-hosted server"
        )
    try:
        import wandb
    except ImportError:
        raise WandbSourceError("the W&B source needs the wandb package: pip install 'smcost[wandb]'") from None
    try:
        return wandb.Api(overrides={"entity": entity, "project": project}, api_key=key, timeout=TIMEOUT)
    except Exception as exc:  # wandb raises AuthenticationError, ValueError, ... on a bad key or host
        # The exception's text is wandb's and names the host, never the key; keep only its type and
        # our advice so no credential can reach the log even if a future wandb echoes it.
        raise WandbSourceError(
            f"W&B refused the credentials or could not be reached ({type(exc).__name__}): check "
            "WANDB_API_KEY and WANDB_BASE_URL"
        ) from None


def _iso(value: Any) -> datetime | None:
    """W&B's createdAt/heartbeatAt (ISO 8601, UTC, with or without a zone) as naive UTC."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed.astimezone(timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed


def _host(run_id: str, group: str | None) -> str | None:
    """The host the integration put at the end of the run id (``<group>-<random>-<host>``)."""
    if not group or not run_id.startswith(f"{group}-"):
        return None
    rest = run_id[len(group) + 1 :]
    return rest.split("-", 1)[1] if "-" in rest else None


def _scalar(value: Any) -> Any:
    return json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value


def incremental_filter(since: str | None) -> dict[str, Any]:
    """W&B's runs filter (MongoDB-style; createdAt and updatedAt are the filterable times): every
    run the first time, then those created or updated since the watermark less OVERLAP, plus any
    still running."""
    if since is None:
        return {}
    start = (datetime.fromisoformat(since) - OVERLAP).isoformat(timespec="seconds")
    return {
        "$or": [
            {"createdAt": {"$gte": start}},
            {"updatedAt": {"$gte": start}},
            {"state": "running"},
        ]
    }


def extract_wandb(
    run: TrackerRun,
    entity: str,
    project: str,
    keys: KeyFilter,
    api_factory: Callable[[str, str], Any] = open_api,
) -> None:
    """Land ``entity/project``'s runs into wandb_runs (incremental; the rest carried forward)."""
    if not entity or not project:
        raise WandbUsageError("--wandb-entity and --wandb-project are both needed")
    api = api_factory(entity, project)
    run.calls["wandb:authenticate"] += 1  # wandb.Api verifies the key once when made
    watermark_key = f"wandb:{entity}/{project}:runs"
    filters = incremental_filter(run.watermark(watermark_key))
    try:
        runs = api.runs(f"{entity}/{project}", filters=filters, order="+created_at", per_page=PAGE, lazy=False)
        # Count the pages the paginator asks for (one GraphQL request each) at its one fetch method,
        # private in wandb 0.31; a wandb without it still reads, its pages just go uncounted.
        fetch = getattr(runs, "_update_response", None)
        if fetch is not None:

            def counted() -> None:
                run.calls["wandb:graphql:Runs"] += 1
                fetch()

            runs._update_response = counted
        read = list(runs)
    except Exception as exc:
        raise WandbSourceError(
            f"W&B could not list the runs of {entity}/{project} ({type(exc).__name__}): check the entity, "
            "the project and the key's access to them"
        ) from None
    rows = []
    for r in read:
        group = r.group or None
        state = (r.state or "").lower() or None
        user = getattr(r, "user", None)
        rows.append(
            {
                "entity": entity,
                "project": project,
                "run_id": r.id,
                "run_name": r.name,
                "run_group": group,
                "job_type": r.job_type or None,
                "user_name": getattr(user, "username", None) if user is not None else None,
                "run_state": state,
                "host": _host(r.id, group),
                "started_at": _iso(r.created_at),
                "ended_at": None if state in ("running", "pending") else _iso(r.heartbeat_at),
                "tags": keys.apply((t, "true") for t in r.tags or []),
                "config": keys.apply((k, _scalar(v)) for k, v in (r.config or {}).items()),
            }
        )
    run.land("wandb_runs", rows, replaces=("entity", "project", "run_id"))
    run.watermarks[watermark_key] = run.started_at.isoformat(timespec="milliseconds")


__all__ = ["WandbSourceError", "WandbUsageError", "extract_wandb", "incremental_filter", "open_api"]
