"""The extractor tests' harness: moto's server with injectable AWS faults, a runner, lake readers.

The extractor talks HTTP to moto's ThreadedMotoServer exactly as it would to AWS (through
AWS_ENDPOINT_URL); nothing of the extractor is mocked. Where moto lacks an API (inference
components, Studio user profiles, spaces and apps) the runner puts a botocore Stubber in front of
that one kind: the Stubber checks requests and responses against the real API shapes.

Faults are injected on the wire: AWS error bodies, pages AWS might send, answers cut in half
(``Faults``), an endpoint that accepts connections and never answers (``SilentEndpoint``), a port
that refuses them (``closed_port_url``).
"""

from __future__ import annotations

import argparse
import io
import json
import re
import socket
import threading
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pyarrow.dataset as pads
import pytest
from botocore.stub import Stubber
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from extractor import extract_scenario as scenario
from smcost.extractor import Extraction, RunResult, add_arguments
from smcost.extractor.catalog import resolve
from smcost.extractor.options import from_args
from smcost.schemas import DATASETS

MOTO_LACKS = {
    "inference_components",
    "studio_user_profiles",
    "studio_spaces",
    "studio_apps",
    "pipeline_execution_steps",
    "training_plans",
}


# --------------------------------------------------------------------------------------------
# Fault injection: AWS errors returned by the server, before moto sees the request
# --------------------------------------------------------------------------------------------


@dataclass
class Fault:
    code: str  # the AWS error code to answer with ("" for an answer or a truncation)
    service: str = "sagemaker"
    operation: str | None = None  # e.g. "Search"; None = every operation
    region: str | None = None
    body_contains: str | None = None  # e.g. an account id in an AssumeRole request
    times: int | None = None  # None = every matching request
    status: int = 400
    answer: dict | None = None  # answer 200 with this JSON instead: a page as AWS might send it
    truncate: bool = False  # let moto answer, but send only half of its answer's bytes
    hits: int = 0


@dataclass
class Faults:
    rules: list[Fault] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, code: str, **match) -> Fault:
        fault = Fault(code, **match)
        with self.lock:
            self.rules.append(fault)
        return fault

    def answer(self, body: dict, **match) -> Fault:
        """Answer matching JSON-protocol requests with ``body`` (HTTP 200), before moto sees them."""
        return self.add("", answer=body, status=200, **match)

    def truncate(self, **match) -> Fault:
        """Cut moto's answer to matching requests in half (the Content-Length still promises it all)."""
        return self.add("", truncate=True, **match)

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()

    def match(self, environ: dict, body: str) -> Fault | None:
        scope = re.search(r"Credential=[^/]+/\d+/([^/]+)/([^/]+)/aws4_request", environ.get("HTTP_AUTHORIZATION", ""))
        region, service = scope.groups() if scope else (None, None)
        operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2] or None
        if operation is None and "Action=" in body:  # query protocol (STS)
            operation = re.search(r"Action=(\w+)", body)[1]
        with self.lock:
            for fault in self.rules:
                if fault.times is not None and fault.hits >= fault.times:
                    continue
                if fault.service != service or fault.region not in (None, region):
                    continue
                if fault.operation not in (None, operation) or (fault.body_contains or "") not in body:
                    continue
                fault.hits += 1
                return fault
        return None

    def wrap(self, app: Callable) -> Callable:
        def middleware(environ: dict, start_response: Callable):
            raw = b""
            # Form-encoded (STS) and JSON (SageMaker, CloudWatch) requests: read the body, so rules
            # can match what it asks for (body_contains).
            if environ.get("CONTENT_TYPE", "").startswith(
                ("application/x-www-form-urlencoded", "application/x-amz-json")
            ):
                raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
                environ["wsgi.input"] = io.BytesIO(raw)
            fault = self.match(environ, raw.decode("utf-8", "replace"))
            if fault is None:
                return app(environ, start_response)
            if fault.truncate:
                return _truncated(app, environ, start_response)
            if fault.answer is not None:
                body = json.dumps(fault.answer).encode()
                start_response(
                    "200 OK", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))]
                )
                return [body]
            if environ.get("HTTP_X_AMZ_TARGET"):
                content_type = "application/x-amz-json-1.1"
                body = json.dumps({"__type": fault.code, "message": f"injected {fault.code}"}).encode()
            else:
                content_type = "text/xml"
                body = (
                    f"<ErrorResponse><Error><Type>Sender</Type><Code>{fault.code}</Code>"
                    f"<Message>injected {fault.code}</Message></Error></ErrorResponse>"
                ).encode()
            start_response(
                f"{fault.status} Error",
                [
                    ("Content-Type", content_type),
                    ("Content-Length", str(len(body))),
                    ("x-amzn-ErrorType", fault.code),
                ],
            )
            return [body]

        return middleware


def _truncated(app: Callable, environ: dict, start_response: Callable) -> list[bytes]:
    """moto's answer with its headers intact and only the first half of its body."""
    captured: dict = {}

    def capture(status: str, headers: list, exc_info=None):
        captured.update(status=status, headers=headers)
        return lambda data: None

    body = b"".join(app(environ, capture))
    headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
    start_response(captured["status"], [*headers, ("Content-Length", str(len(body)))])
    return [body[: len(body) // 2]]


class SilentEndpoint:
    """A TCP endpoint that accepts connections and never answers (a hung proxy, a black-holed VPC
    endpoint). ``accepted`` counts connections: one per attempt the client made."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.05)  # so the accept loop notices close() promptly
        self._open: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-endpoint", daemon=True)
        self.accepted = 0
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._server.accept()
            except TimeoutError:
                continue
            self._open.append(connection)  # held open, never read from or written to
            self.accepted += 1

    def __enter__(self) -> SilentEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        for connection in [*self._open, self._server]:
            connection.close()


def closed_port_url() -> str:
    """The URL of a local port nothing listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


class FaultInjectingMotoServer(ThreadedMotoServer):
    """moto's threaded server with a WSGI layer in front that can answer with AWS errors."""

    def __init__(self, faults: Faults) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.faults = faults

    def _server_entry(self) -> None:
        app = self.faults.wrap(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


@dataclass
class MotoAws:
    url: str
    faults: Faults

    def client(self, service: str, region: str = "us-east-1", **credentials):
        credentials = credentials or {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
        return boto3.client(service, region_name=region, endpoint_url=self.url, **credentials)

    def reset(self) -> None:
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")).read()
        self.faults.clear()


@dataclass(frozen=True)
class StubError:
    """An error response for Extractor.stub, in place of a response dict."""

    code: str
    message: str = ""


class Extractor:
    """Runs `smcost extract` options through the real argument parser and the real engine."""

    def __init__(self, moto: MotoAws, api_calls: Counter, out: Path) -> None:
        self.moto = moto
        self.api_calls = api_calls
        self.out = out
        self.stubs: dict[tuple[str, str, str], list[tuple[str, dict | StubError, dict]]] = {}

    def stub(self, account: str, region: str, dataset: str, calls: list[tuple[str, dict | StubError, dict]]) -> None:
        """Responses a Stubber gives, in order, for one (account, region, dataset) of the next run."""
        self.stubs[(account, region, dataset)] = calls

    def __call__(self, *argv: str, out: str | Path | None = None, expect: str | None = "complete") -> RunResult:
        parser = argparse.ArgumentParser()
        add_arguments(parser)
        args = parser.parse_args(["--out", str(out or self.out), "--no-progress", *argv])
        stubbers: list[Stubber] = []

        def overrides(account: str, region: str, service: str, dataset: str):
            # Stubber for the APIs moto lacks, and for a dataset a test stubs where moto lacks a
            # shape of the API (a variant with InstancePools and no InstanceType).
            if service != "sagemaker" or (dataset not in MOTO_LACKS and (account, region, dataset) not in self.stubs):
                return None
            client = self.moto.client("sagemaker", region)
            stubber = Stubber(client)
            calls = self.stubs.get((account, region, dataset)) or scenario.empty_listing(dataset)
            for operation, response, expected in calls:
                if isinstance(response, StubError):
                    stubber.add_client_error(operation, response.code, response.message, 400, expected_params=expected)
                else:
                    stubber.add_response(operation, response, expected)
            stubber.activate()
            stubbers.append(stubber)
            return client

        options = from_args(args)
        result = Extraction(options, resolve(options.datasets), client_overrides=overrides).run()
        if result.manifest:
            self.api_calls.update(result.manifest["api_calls"])
        if expect is not None and result.status != expect:
            pytest.fail(
                f"extraction {result.status}, expected {expect}: "
                f"{json.dumps((result.manifest or {}).get('errors'), indent=1)}"
            )
        if result.status == "complete":
            for stubber in stubbers:
                stubber.assert_no_pending_responses()
        self.stubs.clear()
        return result


def partitions(out: Path, dataset: str) -> list[str]:
    return sorted(p.name.split("=", 1)[1] for p in (out / "sagemaker" / dataset).glob("extract_date=*"))


def landed(out: Path, dataset: str, date: str | None = None) -> list[dict]:
    """The rows of one landed partition (the latest by default), checked against the schema."""
    date = date or partitions(out, dataset)[-1]
    table = pads.dataset(out / "sagemaker" / dataset / f"extract_date={date}", format="parquet").to_table()
    expected = DATASETS[dataset].schema
    assert table.schema.equals(expected, check_metadata=False), f"{dataset} schema differs:\n{table.schema}"
    return table.to_pylist()


def by(rows: list[dict], column: str) -> dict:
    return {row[column]: row for row in rows}
