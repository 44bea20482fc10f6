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


def _component(name: str, **describe: object) -> tuple[list[tuple], dict]:
    """A component's listing entry, and its describe call with ``describe`` merged in."""
    arn = ARN + f"inference-component/{name}"
    summary = {
        "InferenceComponentName": name,
        "InferenceComponentArn": arn,
        "EndpointName": "ic-endpoint",
        "EndpointArn": ARN + "endpoint/ic-endpoint",
        "VariantName": "AllTraffic",
        "CreationTime": CREATED,
        "LastModifiedTime": CREATED,
        "InferenceComponentStatus": "InService",
    }
    calls = [
        ("describe_inference_component", {**summary, **describe}, {"InferenceComponentName": name}),
        ("list_tags", {"Tags": []}, {"ResourceArn": arn, "MaxResults": 50}),
    ]
    return calls, summary


def test_inference_component_partitions_adapters_and_per_instance_type_placements_land(aws, extract):
    """The 2026 shapes of DescribeInferenceComponent (botocore's model, which Stubber enforces): a
    copy on a MIG partition (AcceleratorPartitionType), an adapter on a base component
    (BaseInferenceComponentName, no compute of its own), and a component with one Specification per
    instance type placed on two types of a heterogeneous endpoint (RuntimeConfig.PlacementStatus)."""
    mig, mig_summary = _component(
        "ic-mig",
        Specification={
            "ModelName": "small-llm",
            "ComputeResourceRequirements": {
                "NumberOfAcceleratorDevicesRequired": 1.0,
                "MinMemoryRequiredInMb": 8192,
                "AcceleratorPartitionType": "mig-1g.10gb",
            },
        },
        RuntimeConfig={"DesiredCopyCount": 3, "CurrentCopyCount": 3},
    )
    adapter, adapter_summary = _component(
        "ic-adapter",
        Specification={"BaseInferenceComponentName": "ic-base", "Container": {"ArtifactUrl": "s3://b/adapter/"}},
    )
    pools, pools_summary = _component(
        "ic-pools",
        Specifications=[
            {
                "InstanceType": "ml.g5.xlarge",
                "ModelName": "ranker-g5",
                "ComputeResourceRequirements": {
                    "NumberOfAcceleratorDevicesRequired": 1.0,
                    "MinMemoryRequiredInMb": 1024,
                },
            },
            {
                "InstanceType": "ml.g6.2xlarge",
                "ModelName": "ranker-g6",
                "ComputeResourceRequirements": {
                    "NumberOfAcceleratorDevicesRequired": 1.0,
                    "NumberOfCpuCoresRequired": 2.0,
                    "MinMemoryRequiredInMb": 1024,
                },
            },
        ],
        RuntimeConfig={
            "DesiredCopyCount": 3,
            "CurrentCopyCount": 3,
            "PlacementStatus": [
                {"InstanceType": "ml.g5.xlarge", "CurrentCopyCount": 2},
                {"InstanceType": "ml.g6.2xlarge", "CurrentCopyCount": 1},
            ],
        },
    )
    listing = {"InferenceComponents": [mig_summary, adapter_summary, pools_summary]}
    extract.stub(
        ACCOUNT,
        REGION,
        "inference_components",
        [("list_inference_components", listing, {"MaxResults": 100}), *mig, *adapter, *pools],
    )
    extract("--datasets", "inference_components")
    rows = {r["inference_component_name"]: r for r in landed(extract.out, "inference_components")}

    assert (rows["ic-mig"]["accelerator_partition_type"], rows["ic-mig"]["current_copy_count"]) == ("mig-1g.10gb", 3)
    assert rows["ic-mig"]["copies_by_instance_type"] is None  # one pool: copies are current_copy_count
    assert rows["ic-adapter"]["base_inference_component_name"] == "ic-base"
    assert rows["ic-adapter"]["accelerator_devices_required"] is None  # it reserves nothing of its own
    assert rows["ic-mig"]["base_inference_component_name"] is None
    pooled = rows["ic-pools"]
    assert dict(pooled["copies_by_instance_type"]) == {"ml.g5.xlarge": 2, "ml.g6.2xlarge": 1}
    assert dict(pooled["accelerator_devices_by_instance_type"]) == {"ml.g5.xlarge": 1.0, "ml.g6.2xlarge": 1.0}
    assert dict(pooled["cpu_cores_by_instance_type"]) == {"ml.g6.2xlarge": 2.0}
    assert pooled["accelerator_partition_by_instance_type"] is None
    assert pooled["accelerator_devices_required"] is None  # no singular Specification when several


def test_a_heterogeneous_variants_instance_pools_land(aws, extract):
    """moto rejects a variant with InstancePools and no InstanceType (ValidationException), so its
    describe comes from Stubber: the pools land as instance type -> priority, InstanceType null."""
    config_arn = ARN + "endpoint-config/pools-config"
    variant = {
        "VariantName": "AllTraffic",
        "InitialInstanceCount": 3,
        "InstancePools": [
            {"InstanceType": "ml.g5.xlarge", "Priority": 1},
            {"InstanceType": "ml.g6.2xlarge", "Priority": 2, "ModelNameOverride": "ranker-g6"},
        ],
    }
    summary = {"EndpointConfigName": "pools-config", "EndpointConfigArn": config_arn, "CreationTime": CREATED}
    extract.stub(
        ACCOUNT,
        REGION,
        "endpoint_configs",
        [
            ("list_endpoint_configs", {"EndpointConfigs": [summary]}, {"MaxResults": 100}),
            (
                "describe_endpoint_config",
                {**summary, "ProductionVariants": [variant]},
                {"EndpointConfigName": "pools-config"},
            ),
            ("list_tags", {"Tags": []}, {"ResourceArn": config_arn, "MaxResults": 50}),
        ],
    )
    extract("--datasets", "endpoint_configs")
    (config,) = landed(extract.out, "endpoint_configs")
    assert (config["instance_type"], config["initial_instance_count"]) == (None, 3)
    assert dict(config["instance_pools"]) == {"ml.g5.xlarge": 1, "ml.g6.2xlarge": 2}
