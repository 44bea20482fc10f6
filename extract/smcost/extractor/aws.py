"""AWS plumbing shared by every resource kind: sessions, clients, call counting, paging, errors.

Credentials come only from the standard chain (environment, profile, instance or task role). For
member accounts the extractor assumes a role through STS with auto-refreshing credentials, so a
run longer than the role session never fails half way. Endpoints come from boto3's own
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` handling: an emulator needs no code path.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionError as BotoConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
)

USER_AGENT = "smcost-extract"

# The IAM action behind an API operation, where the two names differ (extract/iam-policy.json).
IAM_ACTION_OVERRIDES = {"s3:ListObjectsV2": "s3:ListBucket"}


def iam_action(call: str) -> str:
    """``"sagemaker:Search"`` -> the IAM action that authorises it."""
    return IAM_ACTION_OVERRIDES.get(call, call)


class PageBoundExceeded(Exception):
    """A listing returned more pages than ``--max-pages`` allows (a runaway NextToken loop)."""


# Calls are attributed to the unit running on the current thread (a unit runs on one thread).
_current = threading.local()


def count_calls_into(counter: Counter | None) -> None:
    """Attribute the API calls this thread makes from now on to ``counter``."""
    _current.counter = counter


def _count_call(model: Any, **_: Any) -> None:
    counter = getattr(_current, "counter", None)
    if counter is not None:
        counter[f"{model.service_model.service_name}:{model.name}"] += 1


def instrument(client: BaseClient) -> BaseClient:
    """Count every logical API call made with ``client`` (retries are not separate calls).

    ``before-parameter-build`` fires once per call, before any Stubber or retry handler, so the
    counts are the same against AWS, moto or a Stubber.
    """
    client.meta.events.register("before-parameter-build", _count_call, unique_id="smcost-count-calls")
    return client


# (account_id, region, service, dataset) -> a client to use instead of a built one, or None.
ClientOverrides = Callable[[str, str, str, str], "BaseClient | None"]


class AwsAccess:
    """Clients built once per (account, region, service), from one session per account."""

    def __init__(
        self,
        *,
        role_arn_template: str | None,
        sts_region: str | None = None,
        external_id: str | None = None,
        role_session_name: str = USER_AGENT,
        max_attempts: int = 10,
        max_pool_connections: int = 10,
        overrides: ClientOverrides | None = None,
    ) -> None:
        self._role_arn_template = role_arn_template
        self._sts_region = sts_region
        self._external_id = external_id
        self._role_session_name = role_session_name
        self._config = Config(
            retries={"mode": "adaptive", "max_attempts": max_attempts},
            max_pool_connections=max_pool_connections,
            user_agent_extra=USER_AGENT,
        )
        self._base = boto3.Session()
        self._lock = threading.Lock()
        self._sessions: dict[str, boto3.Session] = {}
        self._session_errors: dict[str, Exception] = {}
        self._clients: dict[tuple[str, str, str, str], BaseClient | None] = {}
        self._caller_account: str | None = None
        # Lets tests put a botocore Stubber in front of the APIs moto lacks (see ClientOverrides).
        self._overrides = overrides

    @property
    def default_region(self) -> str | None:
        # botocore reads AWS_DEFAULT_REGION and the profile; AWS_REGION is what the SDKs of other
        # languages (and Lambda, ECS) set.
        return self._base.region_name or os.environ.get("AWS_REGION")

    def caller_account(self) -> str:
        """The account of the credentials the run started with (one STS call, cached)."""
        with self._lock:
            if self._caller_account is None:
                sts = instrument(self._sts())
                self._caller_account = sts.get_caller_identity()["Account"]
            return self._caller_account

    def _sts(self) -> BaseClient:
        # Regional STS: in the first region extracted, unless the session names one.
        return self._base.client("sts", region_name=self.default_region or self._sts_region, config=self._config)

    def role_arn(self, account_id: str) -> str | None:
        if self._role_arn_template is None:
            return None
        return self._role_arn_template.format(account_id=account_id)

    def _session(self, account_id: str) -> boto3.Session:
        if account_id in self._session_errors:  # fail fast: one AssumeRole failure per account
            raise self._session_errors[account_id]
        if account_id in self._sessions:
            return self._sessions[account_id]
        role_arn = self.role_arn(account_id)
        if role_arn is None:
            session = self._base
        else:
            try:
                session = self._assumed_session(role_arn)
            except Exception as exc:
                self._session_errors[account_id] = exc
                raise
        self._sessions[account_id] = session
        return session

    def _assumed_session(self, role_arn: str) -> boto3.Session:
        sts = instrument(self._sts())
        params = {"RoleArn": role_arn, "RoleSessionName": self._role_session_name}
        if self._external_id:
            params["ExternalId"] = self._external_id

        def refresh() -> dict[str, str]:
            creds = sts.assume_role(**params)["Credentials"]
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": creds["Expiration"].isoformat(),
            }

        # Assume now (a missing trust policy surfaces as this unit's error), refresh before expiry.
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=refresh(), refresh_using=refresh, method="sts-assume-role"
        )
        core = botocore.session.Session()
        core._credentials = credentials  # botocore has no public setter for refreshable credentials
        return boto3.Session(botocore_session=core, region_name=self._base.region_name)

    def client(self, account_id: str, region: str, service: str, dataset: str = "") -> BaseClient:
        with self._lock:
            if self._overrides is not None:
                key = (account_id, region, service, dataset)
                if key not in self._clients:
                    override = self._overrides(account_id, region, service, dataset)
                    self._clients[key] = instrument(override) if override is not None else None
                if self._clients[key] is not None:
                    return self._clients[key]
            key = (account_id, region, service, "")
            if key not in self._clients:
                session = self._session(account_id)
                self._clients[key] = instrument(session.client(service, region_name=region, config=self._config))
            return self._clients[key]

    def partition(self, region: str) -> str:
        """``aws``, ``aws-cn`` or ``aws-us-gov``: needed to build ARNs the APIs do not return."""
        return self._base.get_partition_for_region(region)


def paginate(
    client: BaseClient,
    operation: str,
    items_key: str,
    *,
    max_pages: int,
    max_empty_pages: int = 25,
    warn: Any = None,
    token: tuple[str, str] = ("NextToken", "NextToken"),
    **params: Any,
) -> Iterator[list[dict]]:
    """Yield the pages of a NextToken listing, with a hard bound on the page count.

    SageMaker list calls filtered by LastModifiedTime can return empty pages with a NextToken
    forever (REFERENCE §4): a run of ``max_empty_pages`` empty pages ends the listing with a
    warning; more than ``max_pages`` pages in total is an error for the unit.
    """
    call = getattr(client, operation)
    token_in, token_out = token  # (request parameter, response field): S3 and Logs name them differently
    next_token: str | None = None
    pages = empty = 0
    while True:
        response = call(**params, **({token_in: next_token} if next_token else {}))
        pages += 1
        items = response.get(items_key) or []
        yield items
        next_token = response.get(token_out)
        if not next_token:
            return
        empty = 0 if items else empty + 1
        if empty >= max_empty_pages:
            if warn is not None:
                warn(f"{operation}: {empty} empty pages in a row with a NextToken; stopped listing")
            return
        if pages >= max_pages:
            raise PageBoundExceeded(
                f"{operation} returned more than {max_pages} pages; raise --max-pages or narrow the window"
            )


NOT_FOUND_MESSAGES = ("Could not find", "does not exist", "not found")


def is_not_found(exc: ClientError) -> bool:
    """The resource vanished between a List and a Describe/ListTags: skip it, not the unit."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "")
    return code in {"ResourceNotFound", "ResourceNotFoundException"} or (
        code == "ValidationException" and any(s in message for s in NOT_FOUND_MESSAGES)
    )


def is_expected(exc: BaseException) -> bool:
    """AWS said no, or could not be reached: an operational error, not a bug in a kind."""
    return isinstance(exc, (ClientError, BotoCoreError, PageBoundExceeded))


_HINTS = {
    "AccessDenied": "grant the actions in extract/iam-policy.json to the role used for this account",
    "Throttling": "throttled after every retry: rerun later or lower --workers",
    "EndpointUnreachable": "check network access to the AWS endpoint (or AWS_ENDPOINT_URL)",
    "NoCredentials": "configure credentials (AWS_PROFILE, an instance/task role, or environment variables)",
    "AssumeRoleFailed": "check the member account's role name and its trust policy for this identity",
    "PageBound": "a listing kept returning NextTokens; raise --max-pages if the account is that large",
}


def describe_error(exc: BaseException) -> dict[str, str]:
    """A JSON-ready description of why a unit failed, with what to do next."""
    code = type(exc).__name__
    operation = ""
    message = str(exc)
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "ClientError") or "ClientError"
        operation = exc.operation_name
        message = exc.response.get("Error", {}).get("Message", message) or message
    kind = code
    if "AccessDenied" in code or code in {"UnauthorizedOperation", "AuthorizationError"}:
        kind = "AccessDenied"
    elif "Throttl" in code or code in {"RequestLimitExceeded", "TooManyRequestsException"}:
        kind = "Throttling"
    elif isinstance(exc, BotoConnectionError):
        kind = "EndpointUnreachable"
    elif isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        kind = "NoCredentials"
    elif isinstance(exc, PageBoundExceeded):
        kind = "PageBound"
    if operation == "AssumeRole":
        kind = "AssumeRoleFailed"
    result = {"code": code, "kind": kind, "message": message[:500]}
    if operation:
        result["operation"] = operation
    if kind in _HINTS:
        result["hint"] = _HINTS[kind]
    return result
