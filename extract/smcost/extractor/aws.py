"""AWS plumbing shared by every resource kind: sessions, clients, call counting, paging, errors.

Credentials come only from the standard chain (environment, profile, instance or task role). For
member accounts the extractor assumes a role through STS with auto-refreshing credentials, so a
run longer than the role session never fails half way. Endpoints come from boto3's own
``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>`` handling: an emulator needs no code path.

Every call is bounded in time (``Limits``): connect and read timeouts per attempt, and a retry
budget per call that adaptive retries cannot outlast. An endpoint that stopped answering is not
called again in the run, so one dead endpoint costs one call's budget, not one per unit.
"""

from __future__ import annotations

import os
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.client import BaseClient
from botocore.config import Config
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    HTTPClientError,
    NoCredentialsError,
    PartialCredentialsError,
)
from botocore.exceptions import (
    ConnectionError as BotoConnectionError,
)
from botocore.parsers import ResponseParserError
from botocore.retries import standard as botocore_retries

USER_AGENT = "smcost-extract"

# The IAM action behind an API operation, where the two names differ (extract/iam-policy.json).
IAM_ACTION_OVERRIDES = {"s3:ListObjectsV2": "s3:ListBucket"}


# What a run calls outside any kind: who am I (no --accounts), and the role in each member account.
RUN_ACTIONS = ("sts:GetCallerIdentity", "sts:AssumeRole")


def iam_action(call: str) -> str:
    """``"sagemaker:Search"`` -> the IAM action that authorises it."""
    return IAM_ACTION_OVERRIDES.get(call, call)


class PageBoundExceeded(Exception):
    """A listing returned more pages than ``--max-pages`` allows (a runaway NextToken loop)."""


# Calls are attributed to the unit running on the current thread (a unit runs on one thread).
_current = threading.local()


def count_calls_into(counter: Counter[str] | None) -> None:
    """Attribute the API calls this thread makes from now on to ``counter``."""
    _current.counter = counter


def _call_name(model: Any) -> str:
    """``"sagemaker:Search"``: the service's IAM prefix and the operation (``iam_action`` maps the rest)."""
    return f"{model.service_model.service_name}:{model.name}"


def _count_call(model: Any, **_: Any) -> None:
    name = _call_name(model)
    _current.last_call = name  # the call an exception on this thread came from (describe_error)
    counter = getattr(_current, "counter", None)
    if counter is not None:
        counter[name] += 1


def last_call() -> str | None:
    """The API call this thread started last: the one that failed, when a unit ends in an error."""
    return getattr(_current, "last_call", None)


def instrument(client: BaseClient) -> BaseClient:
    """Count every logical API call made with ``client`` (retries are not separate calls).

    ``before-parameter-build`` fires once per call, before any Stubber or retry handler, so the
    counts are the same against AWS, moto or a Stubber.
    """
    client.meta.events.register("before-parameter-build", _count_call, unique_id="smcost-count-calls")
    return client


@dataclass(frozen=True)
class Limits:
    """How long one API call may take (``--connect-timeout``, ``--read-timeout``, ``--max-attempts``,
    ``--max-retry-seconds``)."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 10  # attempts in all, the first one included
    max_retry_seconds: float = 300.0

    @property
    def attempt_seconds(self) -> float:
        """The longest one attempt can wait on the network: connecting, then one silent read."""
        return self.connect_timeout + self.read_timeout


class GaveUp(Exception):
    """A call stopped before botocore's retries would have stopped it: the run's time bounds said so.

    ``kind`` is what went wrong (EndpointUnresponsive, EndpointUnreachable, Throttling, ServiceError),
    ``code`` the last attempt's error, and the message names the call, the endpoint and the bound.
    """

    def __init__(
        self, *, call: str, endpoint: str, kind: str, code: str, detail: str, hint: str, attempts: int, seconds: float
    ) -> None:
        super().__init__(f"{call} at {endpoint}: {detail}")
        self.call, self.endpoint, self.kind, self.code, self.hint = call, endpoint, kind, code, hint
        self.attempts, self.seconds = attempts, seconds


# botocore's standard backoff sleeps at most this long before a retry (retries/standard.py).
_MAX_BACKOFF = float(getattr(botocore_retries.ExponentialBackoff, "_MAX_BACKOFF", 20))
_CALL_STARTED = "smcost_call_started"  # key in botocore's per-call request context


def _origin(url: str | None) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else (url or "?")


def _cut_short(response: Any, method: str | None, operation: Any) -> tuple[int, int] | None:
    """(bytes received, bytes promised) of an answer shorter than its Content-Length.

    botocore reads answers with urllib3's length check off, and its JSON parser turns a body that
    does not parse into ``{"message": ...}``: a listing page cut off mid-body would read as an empty
    last page, and a unit would "complete" with rows missing. Such an answer is retried instead.
    (botocore's S3 handlers turn an unparseable 200 into a 500, so the status is not checked.)
    """
    if response is None or method == "HEAD" or operation.has_streaming_output:
        return None  # no body to check, or one the caller reads (reading it here would consume it)
    http = response[0]
    promised = (http.headers or {}).get("content-length")
    if not promised or not promised.isdigit():
        return None
    received = len(http.content or b"")
    return (received, int(promised)) if received < int(promised) else None


def _longest_backoff(attempts: int) -> float:
    """The longest sleep botocore may take before attempt ``attempts + 1`` (2^(n-1) s, capped)."""
    return min(2.0 ** (attempts - 1), _MAX_BACKOFF)


class RetryGuard:
    """Bounds the total time of every call, retries included, and remembers endpoints that died.

    botocore bounds attempts, not time: with adaptive retries, ten attempts against an endpoint
    that accepts connections and never answers wait ten read timeouts, per call, per unit: hours.
    The guard hooks each client's ``needs-retry`` event (ahead of botocore's own handler) and
    raises ``GaveUp`` instead of letting a retry start that could end after
    ``max_retry_seconds``. A call that gave up on a network failure marks its endpoint dead for
    the rest of the run: later calls to it fail at once, with a message pointing at the first.
    It also retries success answers cut short of their Content-Length, which botocore would parse
    as an empty page (``_cut_short``).
    """

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self._lock = threading.Lock()
        self._dead: dict[str, GaveUp] = {}
        # The conditions botocore's standard and adaptive modes retry on (attempt count aside):
        # only those are bounded here; anything else fails as botocore raises it.
        self._retryable = botocore_retries.StandardRetryConditions(max_attempts=sys.maxsize)
        self._adapter = botocore_retries.RetryEventAdapter()

    def attach(self, client: BaseClient) -> BaseClient:
        service_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-call.{service_id}", self._before_call, unique_id="smcost-guard-start")
        # The stubs type handlers as returning None; a needs-retry handler returns the delay.
        handler: Any = self._needs_retry
        client.meta.events.register_first(f"needs-retry.{service_id}", handler, unique_id="smcost-guard-retry")
        return client

    def _before_call(self, model: Any, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        endpoint = _origin(params.get("url"))
        with self._lock:
            dead = self._dead.get(endpoint)
        if dead is not None:
            raise GaveUp(
                call=_call_name(model),
                endpoint=endpoint,
                kind=dead.kind,
                code=dead.code,
                hint=dead.hint,
                attempts=0,
                seconds=0.0,
                detail=(
                    f"not called: the endpoint stopped answering earlier in this run ({dead.call}: {dead.code} "
                    f"on {dead.attempts} attempts over {dead.seconds:.1f}s)"
                ),
            )
        context[_CALL_STARTED] = time.monotonic()

    def _needs_retry(
        self,
        *,
        attempts: int,
        operation: Any,
        request_dict: dict[str, Any],
        response: Any,
        caught_exception: BaseException | None,
        **kwargs: Any,
    ) -> float | None:
        cut = _cut_short(response, request_dict.get("method"), operation)
        retry_context = self._adapter.create_retry_context(
            attempts=attempts,
            operation=operation,
            request_dict=request_dict,
            response=response,
            caught_exception=caught_exception,
            **kwargs,
        )
        if cut is None and not self._retryable.is_retryable(retry_context):
            return None  # it succeeded, or failed in a way no retry fixes: botocore carries on
        limits = self.limits
        now = time.monotonic()
        elapsed = now - request_dict["context"].get(_CALL_STARTED, now)
        endpoint = _origin(request_dict.get("url"))
        # No connection, or no answer on one: the endpoint itself is at fault (a cut-short answer is
        # retried the same way, but says nothing about the endpoint's other calls).
        unanswered = isinstance(caught_exception, (BotoConnectionError, HTTPClientError))
        network = unanswered or cut is not None
        with self._lock:
            dead = self._dead.get(endpoint) if unanswered else None
        if dead is not None:
            reason = f"stopped: the endpoint already failed {dead.call} in this run"
        elif elapsed + _longest_backoff(attempts) + limits.attempt_seconds > limits.max_retry_seconds:
            reason = f"gave up: another attempt could end after --max-retry-seconds {limits.max_retry_seconds:g}"
        elif network and attempts >= limits.max_attempts:
            reason = f"gave up: --max-attempts {limits.max_attempts} reached"
        elif cut is not None:
            # botocore took it for a success and will not retry it: retry here, with its jittered
            # backoff for errors that are not throttling (0.05 s x 2^(n-1), at most 20 s).
            return random.random() * min(0.05 * 2.0 ** (attempts - 1), _MAX_BACKOFF)
        else:
            return None  # retry: botocore's handler picks the backoff
        error = self._gave_up(
            _call_name(operation), endpoint, attempts, elapsed, response, caught_exception, reason, cut
        )
        if unanswered:
            with self._lock:
                self._dead.setdefault(endpoint, error)
        raise error

    def _gave_up(
        self,
        call: str,
        endpoint: str,
        attempts: int,
        elapsed: float,
        response: Any,
        caught: BaseException | None,
        reason: str,
        cut: tuple[int, int] | None,
    ) -> GaveUp:
        limits = self.limits
        tried = f"{attempts} attempt{'s' if attempts != 1 else ''} over {elapsed:.1f}s; {reason}"
        if cut is not None:
            kind, code = "EndpointUnresponsive", "TruncatedAnswer"
            detail = f"answers cut short ({cut[0]} of {cut[1]} bytes) on {tried}"
            hint = (
                "something between the extractor and AWS (a proxy, a VPC endpoint, the network) drops "
                "answers mid-way: check it, then rerun to fill in the failed units"
            )
        elif isinstance(caught, HTTPClientError):  # read timeout, or the connection dropped mid-answer
            kind, code = "EndpointUnresponsive", type(caught).__name__
            detail = f"no complete answer within --read-timeout {limits.read_timeout:g}s ({code}) on {tried}"
            hint = (
                "the endpoint took the connection but did not answer: check the network path (proxy, "
                "VPC endpoint, firewall) and AWS_ENDPOINT_URL*; if it is only slow, raise --read-timeout "
                "or --max-retry-seconds; rerun to fill in the failed units"
            )
        elif isinstance(caught, BotoConnectionError):
            kind, code = "EndpointUnreachable", type(caught).__name__
            timed_out = isinstance(caught, ConnectTimeoutError)  # else refused, or no such host
            within = f" within --connect-timeout {limits.connect_timeout:g}s" if timed_out else ""
            detail = f"could not connect{within} ({code}) on {tried}"
            hint = (
                "check network access to the endpoint (DNS, security groups, proxy) or AWS_ENDPOINT_URL*; "
                "rerun to fill in the failed units"
            )
        else:
            http, parsed = response if response is not None else (None, {})
            code = (parsed or {}).get("Error", {}).get("Code") or f"HTTP {getattr(http, 'status_code', '?')}"
            if caught is not None:
                kind, code = "ServiceError", type(caught).__name__
            elif "Throttl" in code or code in {"RequestLimitExceeded", "TooManyRequestsException"}:
                kind = "Throttling"
            else:
                kind = "ServiceError"
            detail = f"{code} on {tried}"
            hint = (
                f"AWS kept refusing this call for {elapsed:.0f}s: rerun later, lower --workers, "
                "or raise --max-retry-seconds"
            )
        return GaveUp(
            call=call,
            endpoint=endpoint,
            kind=kind,
            code=code,
            detail=detail,
            hint=hint,
            attempts=attempts,
            seconds=round(elapsed, 3),
        )


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
        limits: Limits = Limits(),
        max_pool_connections: int = 10,
        overrides: ClientOverrides | None = None,
    ) -> None:
        self._role_arn_template = role_arn_template
        self._sts_region = sts_region
        self._external_id = external_id
        self._role_session_name = role_session_name
        self._config = Config(
            connect_timeout=limits.connect_timeout,
            read_timeout=limits.read_timeout,
            # total_max_attempts counts the first attempt (botocore's max_attempts counts retries).
            retries={"mode": "adaptive", "total_max_attempts": limits.max_attempts},
            max_pool_connections=max_pool_connections,
            user_agent_extra=USER_AGENT,
        )
        self.guard = RetryGuard(limits)
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
                sts: Any = self._instrument(self._sts())
                self._caller_account = sts.get_caller_identity()["Account"]
            return self._caller_account

    def _instrument(self, client: BaseClient) -> BaseClient:
        return self.guard.attach(instrument(client))

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
        sts: Any = self._instrument(self._sts())
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
        core._credentials = credentials  # type: ignore[attr-defined]  # no public setter for refreshable credentials
        return boto3.Session(botocore_session=core, region_name=self._base.region_name)

    def client(self, account_id: str, region: str, service: str, dataset: str = "") -> BaseClient:
        with self._lock:
            if self._overrides is not None:
                key = (account_id, region, service, dataset)
                if key not in self._clients:
                    override = self._overrides(account_id, region, service, dataset)
                    self._clients[key] = self._instrument(override) if override is not None else None
                override = self._clients[key]
                if override is not None:
                    return override
            key = (account_id, region, service, "")
            client = self._clients.get(key)
            if client is None:
                # boto3 types client() per literal service name; this one is a variable.
                session: Any = self._session(account_id)
                client = self._instrument(session.client(service, region_name=region, config=self._config))
                self._clients[key] = client
            return client

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
) -> Iterator[list[dict[str, Any]]]:
    """Yield the pages of a NextToken listing, with a hard bound on the page count.

    SageMaker list calls filtered by LastModifiedTime can return empty pages with a NextToken
    forever (REFERENCE §4): a run of ``max_empty_pages`` empty pages ends the listing with a
    warning; more than ``max_pages`` pages in total is an error for the unit.
    """
    call = getattr(client, operation)
    name = f"{client.meta.service_model.service_name}:{client.meta.method_to_api_mapping.get(operation, operation)}"
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
                warn(f"{name}: {empty} empty pages in a row with a NextToken; stopped listing")
            return
        if pages >= max_pages:
            raise PageBoundExceeded(
                f"{name} returned more than {max_pages} pages (--max-pages) and still a NextToken; "
                "raise --max-pages or narrow the window"
            )


NOT_FOUND_MESSAGES = ("Could not find", "does not exist", "not found")


def is_not_found(exc: ClientError) -> bool:
    """The resource vanished between a List and a Describe/ListTags: skip it, not the unit."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), error.get("Message", "")
    return code in {"ResourceNotFound", "ResourceNotFoundException"} or (
        code == "ValidationException" and any(s in message for s in NOT_FOUND_MESSAGES)
    )


# ResponseParserError: an XML answer (S3, STS) that does not parse, e.g. one cut short. botocore
# raises it after the attempt, where no retry applies; it fails the unit with a clear message.
EXPECTED_ERRORS = (ClientError, BotoCoreError, PageBoundExceeded, GaveUp, ResponseParserError)


def is_expected(exc: BaseException) -> bool:
    """AWS said no, or could not be reached: an operational error, not a bug in a kind."""
    return isinstance(exc, EXPECTED_ERRORS)


_HINTS = {
    "AccessDenied": "grant the actions in extract/iam-policy.json to the role used for this account",
    "Throttling": "throttled on every one of --max-attempts attempts: rerun later, lower --workers or raise "
    "--max-attempts",
    "EndpointUnreachable": "check network access to the AWS endpoint (or AWS_ENDPOINT_URL)",
    "EndpointUnresponsive": "the endpoint did not answer: check the network path and AWS_ENDPOINT_URL*, or raise "
    "--read-timeout if it is only slow",
    "NoCredentials": "configure credentials (AWS_PROFILE, an instance/task role, or environment variables)",
    "AssumeRoleFailed": "check the member account's role name and its trust policy for this identity",
    "PageBound": "a listing kept returning NextTokens; raise --max-pages if the account is that large",
    "BadAnswer": "the endpoint's answer did not parse (cut short, or not from AWS): check proxies and "
    "AWS_ENDPOINT_URL*, then rerun to fill in the failed units",
}


def describe_error(exc: BaseException, call: str | None = None) -> dict[str, str]:
    """A JSON-ready description of why a unit failed, with what to do next.

    ``call`` ("sagemaker:Search", see ``last_call``) names the API call that failed, so an access
    error can say which IAM action is missing.
    """
    if isinstance(exc, GaveUp):
        return {
            "code": exc.code,
            "kind": exc.kind,
            "message": str(exc)[:500],
            "call": exc.call,
            "operation": exc.call.partition(":")[2],
            "endpoint": exc.endpoint,
            "hint": exc.hint,
        }
    code = type(exc).__name__
    operation = ""
    message = str(exc)
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "ClientError") or "ClientError"
        operation = exc.operation_name
        message = exc.response.get("Error", {}).get("Message", message) or message
        if call is None or call.partition(":")[2] != operation:
            call = None  # the thread's last call was another one: do not guess the service
        message = f"{call}: {message}" if call else message
    elif isinstance(exc, ResponseParserError):
        message = message.splitlines()[0] if message else message  # not the raw answer that follows
        message = f"{call}: {message}" if call else message  # raised inside the call: it is the last one
    else:
        call = None
    kind = code
    if "AccessDenied" in code or code in {"UnauthorizedOperation", "AuthorizationError"}:
        kind = "AccessDenied"
    elif "Throttl" in code or code in {"RequestLimitExceeded", "TooManyRequestsException"}:
        kind = "Throttling"
    elif isinstance(exc, BotoConnectionError):
        kind = "EndpointUnreachable"
    elif isinstance(exc, HTTPClientError):
        kind = "EndpointUnresponsive"
    elif isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        kind = "NoCredentials"
    elif isinstance(exc, PageBoundExceeded):
        kind = "PageBound"
    elif isinstance(exc, ResponseParserError):
        kind = "BadAnswer"
    if operation == "AssumeRole":
        kind = "AssumeRoleFailed"
    result = {"code": code, "kind": kind, "message": message[:500]}
    if operation:
        result["operation"] = operation
    if call:
        result["call"] = call
    if kind in _HINTS:
        result["hint"] = _HINTS[kind]
    if kind == "AccessDenied" and call:
        result["action"] = iam_action(call)
        result["hint"] = (
            f"grant {result['action']} to the role used for this account "
            "(extract/iam-policy.json has every action the extractor needs)"
        )
    return result
