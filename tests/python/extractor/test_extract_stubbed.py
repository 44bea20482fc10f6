"""Kinds moto does not implement, driven through botocore's Stubber across runs.

moto has no inference components and no Studio apps (HTTP 500), so these tests queue the API's
responses with Stubber, which rejects requests and responses that do not match the real API model.
"""

from __future__ import annotations

from extractor.extract_scenario import ACCOUNT, ARN, CREATED, DOMAIN, REGION, STUBS
from extractor.harness import StubError, landed


def _app(name: str) -> dict:
    return {
        "DomainId": DOMAIN,
        "UserProfileName": "alice",
        "AppType": "KernelGateway",
        "AppName": name,
        "Status": "InService",
        "CreationTime": CREATED,
        "ResourceSpec": {"InstanceType": "ml.m5.large"},
    }


def test_an_app_deleted_between_the_listing_and_its_describe_is_skipped_not_fatal(aws, extract):
    keys = {"DomainId": DOMAIN, "UserProfileName": "alice", "AppType": "KernelGateway"}
    arn = ARN + f"app/{DOMAIN}/alice/kernelgateway/kept"
    extract.stub(
        ACCOUNT,
        REGION,
        "studio_apps",
        [
            ("list_apps", {"Apps": [_app("kept"), _app("gone")]}, {"MaxResults": 100}),
            ("describe_app", {**_app("kept"), "AppArn": arn}, {**keys, "AppName": "kept"}),
            ("list_tags", {"Tags": [{"Key": "team", "Value": "research"}]}, {"ResourceArn": arn, "MaxResults": 50}),
            ("describe_app", StubError("ResourceNotFound", "App does not exist"), {**keys, "AppName": "gone"}),
        ],
    )
    extract("--datasets", "studio_apps")
    (app,) = landed(extract.out, "studio_apps")
    assert (app["app_name"], app["app_arn"], app["instance_type"], dict(app["tags"])) == (
        "kept",
        arn,
        "ml.m5.large",
        {"team": "research"},
    )


def test_an_inference_component_gone_from_the_listing_is_marked_deleted(aws, extract):
    extract.stub(ACCOUNT, REGION, "inference_components", STUBS["inference_components"])
    extract("--datasets", "inference_components", "--extract-date", "2024-06-01")
    extract("--datasets", "inference_components", "--extract-date", "2024-06-02")  # empty listing now
    (component,) = landed(extract.out, "inference_components")
    assert (component["inference_component_name"], component["inference_component_status"]) == ("ic-llm-a", "Deleted")
