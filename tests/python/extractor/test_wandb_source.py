"""`smcost extract --wandb-entity E --wandb-project P` at the library boundary.

No W&B server can run here (W&B's server is not open source, and wandb.Api talks to it through the
wandb-core service process). So this test drives W&B's OWN public-API objects — ``wandb.Api``,
``wandb.apis.public.Runs`` paginating, ``Run`` parsing each node, its config and user — and replaces
only the transport below them: ``ServiceApi.send_api_request``, the one method through which every
request of the public API reaches wandb-core. The fake answers the credential check and the
``Runs`` GraphQL query with the response shapes W&B documents and wandb's fragments select
(project.runCount, runs.edges[].node with RunFragment's fields, config as a JSON string of
{key: {value, desc}}, pageInfo.endCursor/hasNextPage), and evaluates the MongoDB-style filter the
extractor sends (``$or``, ``$gte`` on createdAt/updatedAt, state equality) the way the server does
for those operators. What this cannot prove: that W&B's server accepts the filter as sent; the
filter's field names are the ones wandb's own query generator allows (createdAt, updatedAt).
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

pytest.importorskip("wandb")

from wandb.apis.public.service_api import ServiceApi
from wandb.proto.wandb_api_pb2 import ApiRequest, ApiResponse

from smcost.cli import main
from smcost.extractor import wandb_source

KEY = "0123456789abcdef0123456789abcdef01234567"  # the shape of a W&B key; must never land
ACCOUNT, REGION = "111122223333", "us-east-1"
SCOPE = ["--accounts", ACCOUNT, "--regions", REGION]


def _node(run_id: str, group: str, created: str, heartbeat: str, state: str, config: dict[str, Any], **extra: Any):
    """One run as the Runs query returns it (RunFragment's fields)."""
    return {
        "projectId": "4242",  # the project's numeric internal id, as a string
        "id": f"UnVuOj{run_id}",
        "tags": extra.pop("tags", []),
        "name": run_id,
        "displayName": extra.pop("display", run_id),
        "sweepName": None,
        "state": state,
        "config": json.dumps({k: {"value": v, "desc": None} for k, v in config.items()}),
        "group": group,
        "jobType": "train",
        "commit": None,
        "readOnly": False,
        "createdAt": created,
        "heartbeatAt": heartbeat,
        "description": None,
        "notes": None,
        "systemMetrics": "{}",
        "summaryMetrics": json.dumps({"loss": 0.1}),
        "historyLineCount": 10,
        "user": {"name": "Ada", "username": "ada-risk"},
        "historyKeys": None,
        "_updatedAt": extra.pop("updated", heartbeat),  # server-side only, stripped before answering
    }


class FakeWandbCore:
    """The transport below wandb's public API: answers what wandb-core would relay from the server."""

    def __init__(self) -> None:
        self.nodes: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []

    def _matches(self, node: dict[str, Any], flt: dict[str, Any]) -> bool:
        fields = {"createdAt": node["createdAt"], "updatedAt": node["_updatedAt"], "state": node["state"]}
        for key, cond in flt.items():
            if key == "$or":
                if not any(self._matches(node, c) for c in cond):
                    return False
            elif isinstance(cond, dict):
                ((op, value),) = cond.items()
                assert op == "$gte", op
                if not fields[key] >= value:
                    return False
            elif fields[key] != cond:
                return False
        return True

    def send(self, request: ApiRequest) -> ApiResponse:
        response = ApiResponse()
        if request.HasField("auth_request"):
            self.requests.append({"auth": True})
            response.auth_response.authenticate_response.username = "ada-risk"
            response.auth_response.authenticate_response.default_entity = "acme"
            return response
        assert request.HasField("graphql_request"), request
        query, variables = request.graphql_request.query, json.loads(request.graphql_request.variables_json)
        assert "query Runs(" in query and "fragment RunFragment" in query  # lazy=False: config in the page
        self.requests.append(variables)
        matched = [n for n in self.nodes if self._matches(n, json.loads(variables["filters"]))]
        start = int(variables.get("cursor") or 0)
        page = matched[start : start + variables["perPage"]]
        data = {
            "project": {
                "internalId": "UHJvamVjdDo0MjQy",
                "runCount": len(matched),
                "readOnly": False,
                "runs": {
                    "edges": [
                        {"node": {k: v for k, v in n.items() if not k.startswith("_")}, "cursor": str(start + i + 1)}
                        for i, n in enumerate(page)
                    ],
                    "pageInfo": {"endCursor": str(start + len(page)), "hasNextPage": start + len(page) < len(matched)},
                },
            }
        }
        response.graphql_response.data_json = json.dumps(data)
        return response


@pytest.fixture
def core(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeWandbCore:
    fake = FakeWandbCore()
    monkeypatch.setattr(ServiceApi, "send_api_request", lambda self, request, timeout=None: fake.send(request))
    for name in ("WANDB_DIR", "WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(name, str(tmp_path / "wandb-home"))
    monkeypatch.delenv("WANDB_BASE_URL", raising=False)
    monkeypatch.setenv("WANDB_API_KEY", KEY)
    # Two hosts of one distributed job, as the SageMaker integration names them, plus a run that is
    # no SageMaker job; the config holds a secret and keys the allow-list does not name.
    secret_config = {"ml:team": "risk", "ml:model": "fraud-gnn", "api_token": "s3cr3t", "lr": 0.1}
    fake.nodes += [
        _node("fraud-train-7-ab12cd-algo-1", "fraud-train-7", "2026-09-01T08:00:00", "2026-09-01T09:00:00",
              "finished", {**secret_config, "sagemaker_training_job_name": "fraud-train-7"}, tags=["ml:team", "nightly"]),
        _node("fraud-train-7-ab12cd-algo-2", "fraud-train-7", "2026-09-01T08:00:01", "2026-09-01T09:00:00",
              "finished", secret_config),
        _node("notebook-x1", "", "2026-09-01T07:00:00", "2026-09-01T07:30:00", "crashed", {"lr": 0.2},
              display="scratch"),
    ]  # fmt: skip
    return fake


def _extract(out: Path, date: str, *extra: str) -> int:
    argv = ["extract", "--out", str(out), *SCOPE, "--wandb-entity", "acme", "--wandb-project", "fraud"]
    return main([*argv, "--extract-date", date, *extra])


def _rows(out: Path, date: str) -> list[dict[str, Any]]:
    path = out / "sagemaker" / "wandb_runs" / f"extract_date={date}"
    return sorted(pq.read_table(path).to_pylist(), key=lambda r: r["run_id"])


def _manifests(out: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((out / "sagemaker" / "_runs").rglob("*.json"))]


def test_runs_land_with_the_allow_listed_keys_only(core, tmp_path):
    assert _extract(tmp_path, "2026-09-02") == 0
    rows = _rows(tmp_path, "2026-09-02")
    assert [r["run_id"] for r in rows] == [
        "fraud-train-7-ab12cd-algo-1",
        "fraud-train-7-ab12cd-algo-2",
        "notebook-x1",
    ]
    first = rows[0]
    assert (first["entity"], first["project"], first["run_group"], first["host"]) == (
        "acme",
        "fraud",
        "fraud-train-7",
        "algo-1",
    )
    assert (first["account_id"], first["region"], first["user_name"], first["run_state"]) == (
        ACCOUNT,
        REGION,
        "ada-risk",
        "finished",
    )
    assert str(first["started_at"]) == "2026-09-01 08:00:00" and str(first["ended_at"]) == "2026-09-01 09:00:00"
    # The default allow-list: the keys attribution reads and names; never api_token, lr or "nightly".
    assert sorted(first["config"]) == [("ml:model", "fraud-gnn"), ("ml:team", "risk")]
    assert first["tags"] == [("ml:team", "true")]
    assert rows[1]["host"] == "algo-2"
    assert rows[2]["run_group"] is None and rows[2]["host"] is None and rows[2]["config"] == []
    assert rows[2]["run_name"] == "scratch"


def test_deny_list_wins_and_an_allow_list_widens(core, tmp_path):
    assert _extract(tmp_path, "2026-09-02", "--tracker-allow-keys", "ml:*,lr", "--tracker-deny-keys", "ml:model") == 0
    assert sorted(_rows(tmp_path, "2026-09-02")[0]["config"]) == [("lr", "0.1"), ("ml:team", "risk")]


def test_second_run_reads_only_new_and_changed_runs_and_carries_the_rest(core, tmp_path):
    assert _extract(tmp_path, "2026-09-02") == 0
    assert json.loads(core.requests[-1]["filters"]) == {}  # first run: everything
    watermark = _manifests(tmp_path)[-1]["watermarks"]["wandb:acme/fraud:runs"]
    # After the first run: one new run, one old run updated (its heartbeat moved), one untouched.
    core.nodes.append(
        _node("fraud-train-8-ef34-algo-1", "fraud-train-8", "2099-01-01T00:00:00", "2099-01-01T01:00:00",
              "running", {"ml:team": "risk"})
    )  # fmt: skip
    core.nodes[1].update(heartbeatAt="2099-01-01T02:00:00", _updatedAt="2099-01-01T02:00:00", state="failed")
    assert _extract(tmp_path, "2026-09-03") == 0
    sent = json.loads(core.requests[-1]["filters"])
    assert sent["$or"][0] == {"createdAt": {"$gte": sent["$or"][1]["updatedAt"]["$gte"]}}
    assert sent["$or"][0]["createdAt"]["$gte"] < watermark  # an hour's overlap before the watermark
    manifest = _manifests(tmp_path)[-1]
    assert manifest["source"] == "wandb"
    assert manifest["datasets"]["wandb_runs"]["rows_read"] == 2  # the new and the updated run only
    assert manifest["datasets"]["wandb_runs"]["rows_kept"] == 2  # the other two carried forward
    rows = {r["run_id"]: r for r in _rows(tmp_path, "2026-09-03")}
    assert len(rows) == 4
    assert rows["fraud-train-7-ab12cd-algo-2"]["run_state"] == "failed"
    assert rows["fraud-train-8-ef34-algo-1"]["ended_at"] is None  # still running: no end yet


def test_api_calls_per_n_runs_are_one_page_per_page_size_plus_the_key_check(core, tmp_path):
    n = 2 * wandb_source.PAGE + 1 - len(core.nodes)
    for i in range(n):
        core.nodes.append(
            _node(f"job-{i}-r-algo-1", f"job-{i}", "2026-09-01T10:00:00", "2026-09-01T11:00:00", "finished", {})
        )
    assert _extract(tmp_path, "2026-09-02") == 0
    manifest = _manifests(tmp_path)[-1]
    pages = math.ceil(len(core.nodes) / wandb_source.PAGE)
    assert manifest["api_calls"] == {"wandb:authenticate": 1, "wandb:graphql:Runs": pages}
    assert len(core.requests) == 1 + pages  # what the transport saw: nothing uncounted, nothing per run
    assert manifest["datasets"]["wandb_runs"]["rows"] == len(core.nodes) == 2 * wandb_source.PAGE + 1


def test_the_key_never_reaches_parquet_manifests_or_logs(core, tmp_path, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    assert _extract(tmp_path, "2026-09-02") == 0
    captured = capsys.readouterr()
    for text in (captured.out, captured.err, caplog.text):
        assert KEY not in text and "s3cr3t" not in text
    files = [p for p in tmp_path.rglob("*") if p.is_file() and "wandb-home" not in p.parts]
    assert any(p.suffix == ".parquet" for p in files) and any(p.suffix == ".json" for p in files)
    for path in files:
        data = path.read_bytes()
        assert KEY.encode() not in data and b"s3cr3t" not in data, path


def test_a_missing_key_is_a_usage_error_before_any_request(core, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("WANDB_API_KEY")
    assert _extract(tmp_path, "2026-09-02") == 2
    assert "WANDB_API_KEY" in capsys.readouterr().err
    assert core.requests == [] and not (tmp_path / "sagemaker").exists()


def test_an_entity_without_a_project_is_a_usage_error(core, tmp_path, capsys):
    assert main(["extract", "--out", str(tmp_path), *SCOPE, "--wandb-entity", "acme"]) == 2
    assert "--wandb-project" in capsys.readouterr().err
    assert core.requests == []


def test_a_refused_key_is_a_clear_error_without_the_key(core, tmp_path, monkeypatch, capsys):
    def refuse(self, request, timeout=None):
        from wandb.sdk.lib.service.service_connection import WandbApiFailedError

        raise WandbApiFailedError(f"401 Unauthorized for key {KEY}")  # a careless server message

    monkeypatch.setattr(ServiceApi, "send_api_request", refuse)
    assert _extract(tmp_path, "2026-09-02") == 1
    err = capsys.readouterr().err
    assert "WANDB_API_KEY" in err and KEY not in err
