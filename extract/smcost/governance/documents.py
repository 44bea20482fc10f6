"""Read a deployment file into the SageMaker resources it would create, with their tags as far as
they can be known before deployment.

Three kinds of file, told apart by shape:
- a SageMaker create request (the JSON of `aws sagemaker create-... --cli-input-json`, or of a
  boto3 call's keyword arguments): the operation is the tag-taking Create* whose request shape the
  keys fit (botocore's service model), or `--request-type`; botocore's validator checks the shape.
  A CreatePipeline request's PipelineDefinition is read as a Pipelines definition too.
- a SageMaker Pipelines definition (`{"Version": ..., "Steps": [...]}`): every step that creates
  a resource (Training, Processing, Transform, Tuning, Model, AutoML, QualityCheck, ClarifyCheck),
  inside Condition steps' branches too, by its `Arguments`.
- a CloudFormation or CDK-synthesised template, JSON or YAML (short-form tags such as !Ref, !Sub,
  !If are read as their long form): every `AWS::SageMaker::*` resource whose Create* operation
  takes tags, by `Properties.Tags`; an AWS::SageMaker::Pipeline's literal definition body too.

Tags built by intrinsic functions follow one rule, the same for CloudFormation (`Ref`, `Fn::*`)
and for Pipelines expressions (`Get`, `Std:Join`, ...):
- a key given literally whose value is an intrinsic counts as present, its value unknown: a value
  list cannot be checked (a warning), unless the intrinsic is a `Ref` to a template parameter with
  `AllowedValues` (or a `Get` of a pipeline parameter with `EnumValues`): then every one of those
  values is checked;
- `Fn::If` (a whole Tags list, or one entry of it) is read branch by branch, `AWS::NoValue` as no
  entry: a key counts as present only if every branch has it (the report names the branch that
  lacks it);
- a key that is itself an intrinsic, or a Tags list built entirely by any other intrinsic (a `Ref`
  to a parameter, `Fn::GetAtt`, `Fn::ImportValue`, `Fn::FindInMap`, ...), cannot be read: the keys
  it might supply are 'unverifiable' (fails by default; `--unverifiable warn` makes it a warning).
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from smcost.governance import sagemaker_api

MAX_BRANCH_COMBINATIONS = 64

# Pipelines step type -> the create request its Arguments are.
PIPELINE_STEP_OPERATIONS: Mapping[str, str] = {
    "Training": "CreateTrainingJob",
    "Processing": "CreateProcessingJob",
    "Transform": "CreateTransformJob",
    "Tuning": "CreateHyperParameterTuningJob",
    "Model": "CreateModel",
    "AutoML": "CreateAutoMLJob",
    "QualityCheck": "CreateProcessingJob",
    "ClarifyCheck": "CreateProcessingJob",
}


class InputError(ValueError):
    """A file that is not something the check can read: one line saying what it is and what to do."""


@dataclass(frozen=True)
class TagEntry:
    """One tag as written: a key and a value, each None when an intrinsic hides it; `choices`
    holds the values a parameter allows, `value_source` how an unknown value is built."""

    key: str | None
    value: str | None
    choices: tuple[str, ...] = ()
    value_source: str = ""
    key_source: str = ""


@dataclass(frozen=True)
class TagVariant:
    """The tags a resource gets on one path through the template's conditions ('' when unconditional)."""

    entries: tuple[TagEntry, ...]
    branch: str = ""


@dataclass
class Resource:
    """A resource the file would create. `variants` is None when its tags cannot be read at all
    (then `unverifiable` says why)."""

    source: str
    name: str
    operation: str
    variants: list[TagVariant] | None
    unverifiable: str = ""


@dataclass
class Document:
    """A file read: its kind, the resources it would create, and what was left aside (with why)."""

    path: str
    kind: str
    resources: list[Resource]
    skipped: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Loading JSON and YAML (CloudFormation short-form tags included)


class CloudFormationLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short-form intrinsics: `!Ref x` -> {"Ref": "x"}, `!GetAtt a.b` ->
    {"Fn::GetAtt": ["a", "b"]}, `!Condition c` -> {"Condition": "c"}, any other `!Name v` ->
    {"Fn::Name": v}, whatever the node (scalar, sequence or mapping)."""


def _construct_intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


def load_file(path: Path) -> Any:
    """The parsed content of a JSON or YAML file, or an InputError saying why it is neither."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError("not a text file (expected JSON or YAML)") from None
    except OSError as exc:
        raise InputError(f"cannot read it: {exc.strerror or exc}") from None
    if not text.strip():
        raise InputError("the file is empty")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    try:
        return yaml.load(text, Loader=CloudFormationLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise InputError(f"not valid JSON or YAML: {problem}{where}") from None


# ---------------------------------------------------------------------------------------------
# Telling the kinds apart


def read_document(path: Path, request_type: str | None = None) -> Document:
    """Reads one file into the resources it would create (InputError when it is none of the three kinds)."""
    content = load_file(path)
    source = str(path)
    if not isinstance(content, dict):
        raise InputError(
            f"expected a JSON/YAML object (a SageMaker create request, a Pipelines definition or a "
            f"CloudFormation template), found {type(content).__name__}"
        )
    if request_type is None and _is_cloudformation(content):
        return _read_cloudformation(source, content)
    if request_type is None and isinstance(content.get("Steps"), list):
        return _read_pipeline(source, content, "pipeline definition")
    return _read_request(source, content, request_type)


def _is_cloudformation(content: Mapping[str, Any]) -> bool:
    return "AWSTemplateFormatVersion" in content or isinstance(content.get("Resources"), dict)


# ---------------------------------------------------------------------------------------------
# Create requests


def _read_request(source: str, request: Mapping[str, Any], request_type: str | None) -> Document:
    if request_type is not None:
        operation = request_type if request_type.startswith("Create") else f"Create{request_type}"
        if operation not in sagemaker_api.create_operations_with_tags():
            raise InputError(f"--request-type {request_type}: not a SageMaker Create* operation that takes Tags")
    else:
        fits = sagemaker_api.detect_operation(request)
        if not fits:
            raise InputError(_no_fit_message(request))
        if len(fits) > 1 and len(sagemaker_api.request_members(fits[0])[1]) == len(
            sagemaker_api.request_members(fits[1])[1]
        ):
            raise InputError(f"the keys fit several operations ({', '.join(fits[:3])}): name one with --request-type")
        operation = fits[0]
    errors = [e for e in sagemaker_api.validation_errors(operation, request) if " in Tags" not in e]
    if errors:
        raise InputError(f"not a valid {operation} request: {errors[0]}")
    document = Document(source, f"{operation} request", [])
    name = _request_name(operation, request)
    if operation in sagemaker_api.REQUIRED:
        document.resources.append(Resource(source, name, operation, *_tag_variants(request.get("Tags", []), {})))
    else:
        document.skipped.append(f"{name}: {operation} is exempt ({sagemaker_api.EXEMPT[operation]})")
    definition = request.get("PipelineDefinition") if operation == "CreatePipeline" else None
    if isinstance(definition, str):
        try:
            steps = json.loads(definition)
        except json.JSONDecodeError as exc:
            raise InputError(f"PipelineDefinition is not valid JSON: {exc.msg}") from None
        if isinstance(steps, dict):
            inner = _read_pipeline(source, steps, "pipeline definition", prefix=f"{name} ")
            document.resources += inner.resources
            document.skipped += inner.skipped
    return document


def _request_name(operation: str, request: Mapping[str, Any]) -> str:
    noun = operation[len("Create") :]
    value = request.get(f"{noun}Name")
    if value is None:
        value = next((v for k, v in request.items() if k.endswith("Name") and isinstance(v, str)), None)
    return f"{noun} {value}" if isinstance(value, str) else noun


def _no_fit_message(request: Mapping[str, Any]) -> str:
    keys = set(request)
    best: tuple[int, str] | None = None
    for name in sagemaker_api.create_operations_with_tags():
        members, _ = sagemaker_api.request_members(name)
        overlap = len(keys & (members - {"Tags"}))
        if overlap and (best is None or overlap > best[0]):
            best = (overlap, name)
    if best is None:
        return (
            "not a SageMaker create request, Pipelines definition or CloudFormation template "
            f"(top-level keys: {', '.join(sorted(keys)[:6]) or 'none'})"
        )
    members, required = sagemaker_api.request_members(best[1])
    missing = sorted(required - keys)
    unknown = sorted(keys - members)
    detail = "; ".join(
        part
        for part in (
            f"missing {', '.join(missing)}" if missing else "",
            f"unknown keys {', '.join(unknown[:5])}" if unknown else "",
        )
        if part
    )
    return f"not a SageMaker create request: closest is {best[1]} ({detail}); or name one with --request-type"


# ---------------------------------------------------------------------------------------------
# Pipelines definitions


def _read_pipeline(source: str, definition: Mapping[str, Any], kind: str, prefix: str = "") -> Document:
    steps = definition.get("Steps")
    if not isinstance(steps, list):
        raise InputError("a Pipelines definition needs a Steps list")
    parameters = {p["Name"]: p for p in definition.get("Parameters", []) or [] if isinstance(p, dict) and "Name" in p}
    document = Document(source, kind, [])
    for step, path in _walk_steps(steps, "Steps"):
        name = step.get("Name") if isinstance(step.get("Name"), str) else path
        step_type = step.get("Type")
        label = f"{prefix}step {name} ({step_type})"
        operation = PIPELINE_STEP_OPERATIONS.get(str(step_type))
        arguments = step.get("Arguments")
        if operation is None:
            document.skipped.append(f"{label}: this step type creates nothing the check requires tags on")
            continue
        if not isinstance(arguments, dict):
            document.resources.append(
                Resource(source, label, operation, None, "the step's Arguments are not an object (a property file?)")
            )
            continue
        variants, reason = _tag_variants(arguments.get("Tags", []), {}, pipeline_parameters=parameters)
        document.resources.append(Resource(source, label, operation, variants, reason))
    return document


def _walk_steps(steps: list[Any], path: str) -> Iterator[tuple[dict[str, Any], str]]:
    for index, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        here = f"{path}[{index}]"
        if step.get("Type") == "Condition" and isinstance(step.get("Arguments"), dict):
            for branch in ("IfSteps", "ElseSteps"):
                inner = step["Arguments"].get(branch)
                if isinstance(inner, list):
                    yield from _walk_steps(inner, f"{here}.{branch}")
            continue
        yield step, here


# ---------------------------------------------------------------------------------------------
# CloudFormation


def _read_cloudformation(source: str, template: Mapping[str, Any]) -> Document:
    resources = template.get("Resources")
    if not isinstance(resources, dict):
        raise InputError("a CloudFormation template needs a Resources mapping")
    parameters: dict[str, Any] = template["Parameters"] if isinstance(template.get("Parameters"), dict) else {}
    document = Document(source, "CloudFormation template", [])
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            continue
        resource_type = str(resource.get("Type", ""))
        if not resource_type.startswith("AWS::SageMaker::"):
            continue
        label = f"{logical_id} ({resource_type})"
        operation = sagemaker_api.cloudformation_type_operation(resource_type)
        properties: dict[str, Any] = resource["Properties"] if isinstance(resource.get("Properties"), dict) else {}
        if resource_type == "AWS::SageMaker::Pipeline":
            definition_property = properties.get("PipelineDefinition")
            body = definition_property.get("PipelineDefinitionBody") if isinstance(definition_property, dict) else None
            if isinstance(body, str):
                try:
                    definition = json.loads(body)
                except json.JSONDecodeError:
                    definition = None
                if isinstance(definition, dict):
                    inner = _read_pipeline(source, definition, "pipeline definition", prefix=f"{logical_id} ")
                    document.resources += inner.resources
                    document.skipped += inner.skipped
            elif body is not None:
                document.skipped.append(f"{label}: its definition body is built by an intrinsic and cannot be read")
        if operation is None or not sagemaker_api.takes_tags(operation):
            document.skipped.append(f"{label}: no tag-taking SageMaker Create* operation behind this type")
            continue
        if operation not in sagemaker_api.REQUIRED:
            document.skipped.append(f"{label}: {operation} is exempt ({sagemaker_api.EXEMPT[operation]})")
            continue
        variants, reason = _tag_variants(properties.get("Tags", []), parameters)
        document.resources.append(Resource(source, label, operation, variants, reason))
    return document


# ---------------------------------------------------------------------------------------------
# Tags, with intrinsics


def _intrinsic_name(node: Any) -> str | None:
    """The intrinsic a node is ({"Ref": ...}, {"Fn::Sub": ...}, {"Get": ...}, {"Std:Join": ...}), if any."""
    if isinstance(node, dict) and len(node) == 1:
        (name,) = node
        if name in ("Ref", "Condition", "Get") or name.startswith(("Fn::", "Std:")):
            return str(name)
    return None


def _describe(node: Any) -> str:
    text = json.dumps(node, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _tag_variants(
    tags: Any,
    cfn_parameters: Mapping[str, Any],
    pipeline_parameters: Mapping[str, Any] | None = None,
) -> tuple[list[TagVariant] | None, str]:
    """The possible tag lists of a Tags property, or (None, why) when they cannot be read."""
    if tags is None:
        return [TagVariant(())], ""
    intrinsic = _intrinsic_name(tags)
    if intrinsic == "Fn::If" and isinstance(tags["Fn::If"], list) and len(tags["Fn::If"]) == 3:
        condition, when_true, when_false = tags["Fn::If"]
        variants: list[TagVariant] = []
        for branch_name, branch in ((f"{condition}=true", when_true), (f"{condition}=false", when_false)):
            inner, reason = _tag_variants(branch, cfn_parameters, pipeline_parameters)
            if inner is None:
                return None, reason
            variants += [TagVariant(v.entries, _join(branch_name, v.branch)) for v in inner]
        return variants, ""
    if intrinsic == "Ref" and tags["Ref"] == "AWS::NoValue":
        return [TagVariant(())], ""
    if intrinsic is not None:
        return (
            None,
            f"the Tags list is built by {intrinsic} ({_describe(tags)}), which cannot be read before deployment",
        )
    if isinstance(tags, dict):  # a key -> value map (some CloudFormation types take tags so)
        tags = [{"Key": k, "Value": v} for k, v in tags.items()]
    if not isinstance(tags, list):
        return None, f"Tags is a {type(tags).__name__}, not a list of Key/Value pairs"
    options: list[list[tuple[TagEntry | None, str]]] = []
    for item in tags:
        options.append(_item_options(item, cfn_parameters, pipeline_parameters or {}))
    combinations = 1
    for choice in options:
        combinations *= len(choice)
    if combinations > MAX_BRANCH_COMBINATIONS:
        return (
            None,
            f"the Tags list has {combinations} combinations of conditions (more than {MAX_BRANCH_COMBINATIONS})",
        )
    variants = []
    for combination in itertools.product(*options):
        entries = tuple(entry for entry, _ in combination if entry is not None)
        branch = ", ".join(b for _, b in combination if b)
        variants.append(TagVariant(entries, branch))
    return variants, ""


def _join(outer: str, inner: str) -> str:
    return f"{outer}, {inner}" if inner else outer


def _item_options(
    item: Any, cfn_parameters: Mapping[str, Any], pipeline_parameters: Mapping[str, Any]
) -> list[tuple[TagEntry | None, str]]:
    """The entries one Tags item can become: itself, or one per Fn::If branch (None: no entry)."""
    if _intrinsic_name(item) == "Fn::If" and isinstance(item["Fn::If"], list) and len(item["Fn::If"]) == 3:
        condition, when_true, when_false = item["Fn::If"]
        result: list[tuple[TagEntry | None, str]] = []
        for branch_name, branch in ((f"{condition}=true", when_true), (f"{condition}=false", when_false)):
            for entry, inner in _item_options(branch, cfn_parameters, pipeline_parameters):
                result.append((entry, _join(branch_name, inner)))
        return result
    if _intrinsic_name(item) == "Ref" and item["Ref"] == "AWS::NoValue":
        return [(None, "")]
    if not isinstance(item, dict) or "Key" not in item:
        return [(TagEntry(None, None, key_source=_describe(item)), "")]
    key, value = item.get("Key"), item.get("Value", "")
    key_text = _scalar(key)
    entry_key = key_text if key_text is not None else None
    key_source = "" if key_text is not None else _describe(key)
    value_text = _scalar(value)
    if value_text is not None:
        return [(TagEntry(entry_key, value_text, key_source=key_source), "")]
    choices = _parameter_choices(value, cfn_parameters, pipeline_parameters)
    return [(TagEntry(entry_key, None, choices, value_source=_describe(value), key_source=key_source), "")]


def _scalar(node: Any) -> str | None:
    """A literal tag key or value as the API would receive it, or None for an intrinsic."""
    if isinstance(node, bool):
        return "true" if node else "false"
    if isinstance(node, (str, int, float)) or hasattr(node, "isoformat"):
        return str(node)
    return None


def _parameter_choices(
    value: Any, cfn_parameters: Mapping[str, Any], pipeline_parameters: Mapping[str, Any]
) -> tuple[str, ...]:
    """The values a Ref'd template parameter (AllowedValues) or a Get'd pipeline parameter
    (EnumValues) can take; () when open."""
    name = _intrinsic_name(value)
    if name == "Ref" and isinstance(value["Ref"], str):
        parameter = cfn_parameters.get(value["Ref"])
        allowed = parameter.get("AllowedValues") if isinstance(parameter, dict) else None
        if isinstance(allowed, list) and allowed:
            return tuple(str(v) for v in allowed)
    if name == "Get" and isinstance(value["Get"], str) and value["Get"].startswith("Parameters."):
        parameter = pipeline_parameters.get(value["Get"][len("Parameters.") :])
        enum = parameter.get("EnumValues") if isinstance(parameter, dict) else None
        if isinstance(enum, list) and enum:
            return tuple(str(v) for v in enum)
    return ()
