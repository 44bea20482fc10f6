"""What botocore's SageMaker service model says about creating resources with tags.

The list of SageMaker Create* operations that take `Tags` comes from the service model, never from
a hand-kept list. What the model cannot say is which of them matter for cost; that is the one
table kept here, `REQUIRED` (billable, or carrying the tags that attribute billed usage: the
check and the SCPs require the four keys on them) and `EXEMPT` (metadata SageMaker or its SDKs
create freely, or objects with no charge of their own), each with its reason. A botocore upgrade
that adds a tag-taking Create* operation makes `unclassified()` non-empty, which fails the
guardrail tests until someone files it here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, ServiceModel
from botocore.validate import ParamValidator

# Create* operations that take Tags and whose resource bills (or whose tags attribute what bills).
REQUIRED: Mapping[str, str] = {
    "CreateAIBenchmarkJob": "runs benchmarks on inference infrastructure",
    "CreateAIRecommendationJob": "runs deployments to generate recommendations",
    "CreateApp": "a Studio app: an ML instance while it runs",
    "CreateAutoMLJob": "launches training, processing and transform jobs",
    "CreateAutoMLJobV2": "launches training, processing and transform jobs",
    "CreateCluster": "HyperPod cluster nodes",
    "CreateCompilationJob": "compilation compute",
    "CreateDomain": "the domain's EFS volume; its tags are added to every app it launches",
    "CreateEdgePackagingJob": "packaging compute",
    "CreateEndpoint": "hosting instances",
    "CreateEndpointConfig": "names the instance types and models an endpoint bills for",
    "CreateFeatureGroup": "online and offline store storage and requests",
    "CreateFlowDefinition": "human review, priced per reviewed object",
    "CreateGlobalInferenceGateway": "fronts inference traffic",
    "CreateHyperParameterTuningJob": "launches training jobs, which inherit its tags",
    "CreateInferenceComponent": "reserves endpoint capacity for a model",
    "CreateInferenceExperiment": "runs shadow variants",
    "CreateInferenceRecommendationsJob": "creates endpoints for its load tests",
    "CreateInferenceRouter": "fronts inference traffic",
    "CreateJob": "model customization compute",
    "CreateLabelingJob": "labeling tasks and the processing behind them",
    "CreateMlflowApp": "an MLflow tracking server",
    "CreateMlflowTrackingServer": "an MLflow tracking server",
    "CreateModel": "the model whose tags attribute its endpoints, components and transform jobs",
    "CreateMonitoringSchedule": "starts processing jobs on a schedule",
    "CreateNotebookInstance": "a notebook ML instance and its volume",
    "CreateOptimizationJob": "optimization compute",
    "CreatePartnerApp": "a Partner AI App",
    "CreateProcessingJob": "processing instances",
    "CreateProject": "provisions the project template's resources",
    "CreateSpace": "the space's storage and the apps run in it",
    "CreateTrainingJob": "training instances (and warm pools)",
    "CreateTrainingPlan": "reserved capacity with an upfront fee",
    "CreateTrainingSession": "fine-tuning compute",
    "CreateTransformJob": "batch transform instances",
    "CreateUserProfile": "its tags are added to every app it launches",
}

# Create* operations that take Tags but are left free: no charge of their own, or created by
# SageMaker and its SDKs without the caller's tags (a deny there breaks workflows, bills nothing).
EXEMPT: Mapping[str, str] = {
    "CreateAIWorkloadConfig": "a reusable configuration, no charge",
    "CreateAction": "lineage entity, created by SageMaker and its SDKs",
    "CreateAlgorithm": "a registry entry, no charge",
    "CreateAppImageConfig": "configuration, no charge",
    "CreateArtifact": "lineage entity, created by SageMaker and its SDKs",
    "CreateClusterExtension": "installs software on a cluster that already bills",
    "CreateClusterSchedulerConfig": "scheduling policy, no charge",
    "CreateCodeRepository": "a Git repository reference, no charge",
    "CreateComputeQuota": "an allocation policy, no charge",
    "CreateContext": "lineage entity, created by SageMaker and its SDKs",
    "CreateDataQualityJobDefinition": "a definition: the monitoring schedule that runs it is required",
    "CreateDeviceFleet": "edge fleet metadata, no charge",
    "CreateEdgeDeploymentPlan": "edge deployment metadata, no charge",
    "CreateExperiment": "experiment metadata, created by the SDK's Run",
    "CreateHub": "a private model hub, no charge",
    "CreateHubContentReference": "a hub entry, no charge",
    "CreateHumanTaskUi": "a worker UI template, no charge",
    "CreateImage": "an image registry entry (the image itself is in ECR)",
    "CreateModelBiasJobDefinition": "a definition: the monitoring schedule that runs it is required",
    "CreateModelCard": "documentation, no charge",
    "CreateModelExplainabilityJobDefinition": "a definition: the monitoring schedule that runs it is required",
    "CreateModelPackage": "a registry entry, no charge",
    "CreateModelPackageGroup": "a registry entry, no charge",
    "CreateModelQualityJobDefinition": "a definition: the monitoring schedule that runs it is required",
    "CreateNotebookInstanceLifecycleConfig": "scripts, no charge",
    "CreatePipeline": "no charge: each step's job is checked, and carries its own tags",
    "CreateStudioLifecycleConfig": "scripts, no charge",
    "CreateTrial": "experiment metadata, created by the SDK's Run",
    "CreateTrialComponent": "experiment metadata, created by the SDK's Run",
    "CreateWorkforce": "labeling workforce, no charge",
    "CreateWorkteam": "labeling work team, no charge",
}

# Calls that start or grow billing but take no Tags: no request tag to require. Their resources
# carry the tags they were created with (and the SCP requires those at creation).
UNTAGGABLE_BILLING_CALLS: Mapping[str, str] = {
    "StartNotebookInstance": "restarts a notebook instance's billing",
    "UpdateEndpoint": "moves an endpoint to a new configuration (new instances)",
    "UpdateEndpointWeightsAndCapacities": "scales an endpoint's instance counts",
    "UpdateInferenceComponentRuntimeConfig": "scales an inference component's copies",
    "UpdateCluster": "adds HyperPod nodes",
    "StartPipelineExecution": "runs steps whose own Create* calls carry their tags",
    "StartMonitoringSchedule": "resumes scheduled processing jobs",
    "StartMlflowTrackingServer": "restarts a tracking server",
    "StartInferenceExperiment": "starts shadow variants",
}


@cache
def service_model() -> ServiceModel:
    return botocore.session.get_session().get_service_model("sagemaker")


def operation(name: str) -> OperationModel:
    return service_model().operation_model(name)


def takes_tags(name: str) -> bool:
    shape = operation(name).input_shape
    return shape is not None and "Tags" in shape.members


def create_operations_with_tags() -> tuple[str, ...]:
    """Every SageMaker Create* operation whose request has a Tags member, per botocore."""
    return tuple(sorted(o for o in service_model().operation_names if o.startswith("Create") and takes_tags(o)))


def create_operations_without_tags() -> tuple[str, ...]:
    """The Create* operations that cannot carry tags at creation, per botocore."""
    return tuple(sorted(o for o in service_model().operation_names if o.startswith("Create") and not takes_tags(o)))


def unclassified() -> tuple[str, ...]:
    """Tag-taking Create* operations this module has not filed as REQUIRED or EXEMPT."""
    return tuple(o for o in create_operations_with_tags() if o not in REQUIRED and o not in EXEMPT)


def required_operations() -> tuple[str, ...]:
    """The Create* operations the check and the SCPs require tags on (those botocore knows)."""
    known = set(create_operations_with_tags())
    return tuple(sorted(o for o in REQUIRED if o in known))


def max_tags() -> int:
    """SageMaker's limit of tags per resource, from the TagList shape (50)."""
    return int(service_model().shape_for("TagList").metadata.get("max", 50))


def request_members(name: str) -> tuple[set[str], set[str]]:
    """(all members, required members) of an operation's request; an idempotency token is not
    required of a request file (botocore fills it in)."""
    shape = operation(name).input_shape
    if shape is None:
        return set(), set()
    tokens = {m for m, s in shape.members.items() if s.metadata.get("idempotencyToken")}
    return set(shape.members), set(shape.required_members) - tokens


def detect_operation(request: Mapping[str, Any]) -> list[str]:
    """The tag-taking Create* operations a request's top-level keys fit: every required member
    present and no key the operation does not know. Most specific first (most required members,
    then fewest members): CreateEndpoint's keys also fit nothing else, CreateModel's neither."""
    keys = set(request)
    fits = []
    for name in create_operations_with_tags():
        members, required = request_members(name)
        if required <= keys and keys <= members:
            fits.append((-len(required), len(members), name))
    return [name for _, _, name in sorted(fits)]


def validation_errors(name: str, request: Mapping[str, Any]) -> list[str]:
    """botocore's own validation of a request against the operation's shape, one message a line
    (an idempotency token left out is filled in first, as botocore does when it sends the call)."""
    shape = operation(name).input_shape
    if shape is None:
        return []
    filled = dict(request)
    for member, member_shape in shape.members.items():
        if member_shape.metadata.get("idempotencyToken"):
            filled.setdefault(member, "0" * 32)
    report = ParamValidator().validate(filled, shape)
    if not report.has_errors():
        return []
    text = report.generate_report()
    return [re.sub(r"\s+", " ", line).strip() for line in text.splitlines() if line.strip()]


def cloudformation_type_operation(resource_type: str) -> str | None:
    """The Create* operation behind an AWS::SageMaker::<Type> resource, by name (Endpoint ->
    CreateEndpoint), when botocore has it."""
    prefix = "AWS::SageMaker::"
    if not resource_type.startswith(prefix):
        return None
    name = "Create" + resource_type[len(prefix) :]
    return name if name in service_model().operation_names else None
