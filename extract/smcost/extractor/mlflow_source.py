"""MLflow as a source: experiments, runs (incrementally, by start and end time) and registered model
versions, read over MLflow's REST API (api/2.0/mlflow) with `requests` — no MLflow install needed.

A SageMaker managed MLflow ARN resolves and signs the way AWS's `sagemaker-mlflow` plugin does
(sagemaker_mlflow/mlflow_sagemaker_helpers.py, auth.py, auth_provider.py): a tracking server
``arn:aws:sagemaker:<region>:<account>:mlflow-tracking-server/<name>`` is served at
``https://<region>.experiments.sagemaker.aws`` and signed (SigV4) for the service ``sagemaker-mlflow``
with the header ``x-mlflow-sm-tracking-server-arn``; an ``mlflow-app/<id>`` ARN at
``https://mlflow.sagemaker.<region>.app.aws``, service ``sagemaker``, header ``x-sm-mlflow-app-arn``.
SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT overrides the URL, as in the plugin. Credentials: the AWS chain.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.auth import AuthBase

from smcost.extractor.trackers import JOB_NAME_KEYS, KeyFilter, TrackerRun, millis

API = "/api/2.0/mlflow"
PAGE = 1000
EXPERIMENT_CHUNK = 100  # runs/search takes a list of experiment ids: keep each request small
TIMEOUT = (10, 60)


class MlflowSourceError(RuntimeError):
    """The tracking server refused or could not be read: the message says what to do next."""


@dataclass(frozen=True)
class SageMakerMlflowArn:
    arn: str
    partition: str
    region: str
    account: str
    resource_type: str
    resource_id: str

    @classmethod
    def parse(cls, arn: str) -> SageMakerMlflowArn:
        parts = arn.split(":", 5)
        if len(parts) != 6 or parts[2] != "sagemaker" or "/" not in parts[5]:
            raise MlflowSourceError(f"{arn} is not a SageMaker MLflow ARN (arn:aws:sagemaker:<region>:<account>:...)")
        resource_type, resource_id = parts[5].split("/", 1)
        if resource_type not in ("mlflow-tracking-server", "mlflow-app") or not resource_id:
            raise MlflowSourceError(f"{arn}: expected an mlflow-tracking-server/<name> or mlflow-app/<id> ARN")
        if parts[1] not in ("aws", "aws-us-gov"):
            raise MlflowSourceError(f"{arn}: partition {parts[1]} is not served by SageMaker MLflow")
        return cls(arn, parts[1], parts[3], parts[4], resource_type, resource_id)

    @property
    def url(self) -> str:
        custom = os.environ.get("SAGEMAKER_MLFLOW_CUSTOM_ENDPOINT", "")
        if custom:
            return custom
        if self.resource_type == "mlflow-tracking-server":
            return f"https://{self.region}.experiments.sagemaker.aws"
        return f"https://mlflow.sagemaker.{self.region}.app.aws"

    @property
    def signing_service(self) -> str:
        return "sagemaker-mlflow" if self.resource_type == "mlflow-tracking-server" else "sagemaker"

    @property
    def routing_header(self) -> dict[str, str]:
        name = (
            "x-mlflow-sm-tracking-server-arn"
            if self.resource_type == "mlflow-tracking-server"
            else "x-sm-mlflow-app-arn"
        )
        return {name: self.arn}


class SigV4(AuthBase):
    """Sign each request with the AWS chain's credentials (boto3.Session), as the plugin's AuthBoto."""

    def __init__(self, region: str, service: str) -> None:
        import boto3
        from botocore.auth import SigV4Auth

        credentials = boto3.Session().get_credentials()
        if credentials is None:
            raise MlflowSourceError(
                "no AWS credentials for SageMaker MLflow: set AWS_PROFILE, a role, or the AWS_* variables"
            )
        self.signer = SigV4Auth(credentials, service, region)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        from botocore.awsrequest import AWSRequest

        raw = request.body or b""
        body = raw.encode() if isinstance(raw, str) else bytes(raw)  # type: ignore[arg-type]
        request.headers["X-Amz-Content-SHA256"] = hashlib.sha256(body).hexdigest()
        # SageMaker MLflow strips Connection before it checks the signature; requests encodes spaces as +.
        headers = {k: v for k, v in request.headers.items() if k.lower() != "connection"}
        url = (request.url or "").replace("+", "%20") if request.method in ("GET", "DELETE") else request.url
        signed = AWSRequest(method=request.method, url=url, data=body, headers=headers)
        self.signer.add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        return request


def _env_auth() -> AuthBase | tuple[str, str] | None:
    """MLflow's own credential variables (the same names the MLflow client reads)."""
    token = os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return _Bearer(token)
    user, password = os.environ.get("MLFLOW_TRACKING_USERNAME"), os.environ.get("MLFLOW_TRACKING_PASSWORD")
    return (user, password) if user and password else None


class _Bearer(AuthBase):
    def __init__(self, token: str) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request


class MlflowClient:
    """The few REST calls the extractor makes, each counted by endpoint."""

    def __init__(self, tracking_uri: str, calls: Counter[str]) -> None:
        self.calls = calls
        self.session = requests.Session()
        if tracking_uri.startswith("arn:"):
            arn = SageMakerMlflowArn.parse(tracking_uri)
            self.base, self.server = arn.url.rstrip("/"), arn.arn
            self.session.headers.update(arn.routing_header)
            self.session.auth = SigV4(arn.region, arn.signing_service)
        else:
            parts = urlsplit(tracking_uri)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise MlflowSourceError(
                    f"--mlflow-tracking-uri {tracking_uri!r}: expected http(s)://host[:port] or an ARN"
                )
            if parts.username or parts.password:
                raise MlflowSourceError(
                    "--mlflow-tracking-uri must not carry credentials: set MLFLOW_TRACKING_USERNAME/"
                    "MLFLOW_TRACKING_PASSWORD or MLFLOW_TRACKING_TOKEN instead"
                )
            self.base = self.server = tracking_uri.rstrip("/")
            self.session.auth = _env_auth()

    def _call(self, method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        self.calls[f"mlflow:{endpoint}"] += 1
        try:
            response = self.session.request(method, f"{self.base}{API}/{endpoint}", timeout=TIMEOUT, **kwargs)
        except requests.RequestException as exc:
            raise MlflowSourceError(
                f"MLflow at {self.server} unreachable ({type(exc).__name__}): check the URI"
            ) from None
        if response.status_code in (401, 403):
            raise MlflowSourceError(
                f"MLflow at {self.server} refused {endpoint} ({response.status_code}): check the credentials "
                "in the environment (or the AWS chain's permissions for SageMaker MLflow)"
            )
        if not response.ok:
            raise MlflowSourceError(f"MLflow at {self.server}: {endpoint} answered {response.status_code}")
        result: dict[str, Any] = response.json()
        return result

    def pages(self, method: str, endpoint: str, items: str, body: dict[str, Any]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        token = None
        while True:
            request = {**body, **({"page_token": token} if token else {})}
            page = self._call(method, endpoint, **({"json": request} if method == "POST" else {"params": request}))
            out += page.get(items, [])
            token = page.get("next_page_token")
            if not token:
                return out


def _pairs(entries: list[dict[str, Any]] | None) -> list[tuple[str, Any]]:
    return [(e["key"], e.get("value")) for e in entries or []]


def extract_mlflow(run: TrackerRun, tracking_uri: str, keys: KeyFilter) -> None:
    """Land mlflow_experiments, mlflow_runs (incremental) and mlflow_model_versions."""
    client = MlflowClient(tracking_uri, run.calls)
    server = client.server
    experiments = client.pages("POST", "experiments/search", "experiments", {"max_results": PAGE, "view_type": "ALL"})
    run.land(
        "mlflow_experiments",
        [
            {
                "tracking_server": server,
                "experiment_id": e["experiment_id"],
                "experiment_name": e.get("name"),
                "lifecycle_stage": e.get("lifecycle_stage"),
                "created_at": millis(e.get("creation_time")),
                "last_updated_at": millis(e.get("last_update_time")),
                "tags": keys.apply(_pairs(e.get("tags"))),
            }
            for e in experiments
        ],
    )

    watermark_key = f"mlflow:{server}:runs"
    since = run.watermark(watermark_key)
    # Incremental: runs that started or ended since the watermark (an hour's overlap for clock skew
    # and runs logged late), plus those still running; the rest are carried forward.
    filters = [""]
    if since is not None:
        since_ms = int(millis_from_iso(since)) - 3_600_000
        filters = [
            f"attributes.start_time >= {since_ms}",
            f"attributes.end_time >= {since_ms}",
            "attributes.status = 'RUNNING'",
        ]
    found: dict[str, dict[str, Any]] = {}
    ids = [e["experiment_id"] for e in experiments]
    for start in range(0, len(ids), EXPERIMENT_CHUNK):
        for flt in filters:
            body = {
                "experiment_ids": ids[start : start + EXPERIMENT_CHUNK],
                "max_results": PAGE,
                "run_view_type": "ALL",
            }
            for r in client.pages("POST", "runs/search", "runs", {**body, **({"filter": flt} if flt else {})}):
                found[r["info"]["run_id"]] = r
    rows = []
    for r in found.values():
        info, data = r["info"], r.get("data", {})
        rows.append(
            {
                "tracking_server": server,
                "run_id": info["run_id"],
                "experiment_id": info.get("experiment_id"),
                "run_name": info.get("run_name"),
                "user_id": info.get("user_id"),
                "run_status": info.get("status"),
                "lifecycle_stage": info.get("lifecycle_stage"),
                "started_at": millis(info.get("start_time")),
                "ended_at": millis(info.get("end_time")),
                "tags": keys.apply(_pairs(data.get("tags"))),
                "params": keys.apply(_pairs(data.get("params"))),
            }
        )
    run.land("mlflow_runs", rows, replaces=("tracking_server", "run_id"))
    run.watermarks[watermark_key] = run.started_at.isoformat(timespec="milliseconds")

    versions = client.pages("GET", "model-versions/search", "model_versions", {"max_results": 200_000})
    run.land(
        "mlflow_model_versions",
        [
            {
                "tracking_server": server,
                "registered_model_name": v["name"],
                "model_version": str(v["version"]),
                "source_run_id": v.get("run_id") or None,
                "version_status": v.get("status"),
                "created_at": millis(v.get("creation_timestamp")),
                "tags": keys.apply(_pairs(v.get("tags"))),
            }
            for v in versions
        ],
    )


def millis_from_iso(value: str) -> float:
    from datetime import datetime, timezone

    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc).timestamp() * 1000


__all__ = ["JOB_NAME_KEYS", "MlflowClient", "MlflowSourceError", "SageMakerMlflowArn", "extract_mlflow"]
