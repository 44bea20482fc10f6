"""Fixtures for the extractor tests: one moto server for the session, reset per test or module."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from extractor import moto_gaps
from extractor.harness import Extractor, FaultInjectingMotoServer, Faults, MotoAws


def pytest_configure(config: pytest.Config) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per moto request otherwise
    config.addinivalue_line("markers", "policy: checks every AWS call the suite made; runs last")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("policy") is not None)  # stable: policy last


@pytest.fixture(scope="session")
def moto_server() -> Iterator[FaultInjectingMotoServer]:
    moto_gaps.install()
    server = FaultInjectingMotoServer(Faults())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def moto(moto_server: FaultInjectingMotoServer) -> Iterator[MotoAws]:
    """AWS_ENDPOINT_URL and dummy credentials for everything in the module; state reset first."""
    host, port = moto_server.get_host_and_port()
    handle = MotoAws(f"http://{host}:{port}", moto_server.faults)
    with pytest.MonkeyPatch.context() as env:
        for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ROLE_ARN"):
            env.delenv(name, raising=False)
        env.setenv("AWS_ENDPOINT_URL", handle.url)
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_REGION", "us-east-1")
        env.setenv("AWS_CONFIG_FILE", "/nonexistent")
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        handle.reset()
        yield handle
        handle.faults.clear()


@pytest.fixture
def aws(moto: MotoAws) -> MotoAws:
    """A fresh, empty moto for one test."""
    moto.reset()
    return moto


@pytest.fixture(scope="session")
def api_calls() -> Counter:
    """Every AWS operation any extraction in the suite called (the policy test reads it last)."""
    return Counter()


@pytest.fixture
def extract(aws: MotoAws, api_calls: Counter, tmp_path: Path) -> Extractor:
    return Extractor(aws, api_calls, tmp_path / "lake")
