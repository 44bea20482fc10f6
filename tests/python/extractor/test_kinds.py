"""The kinds are declarations: columns come from the schema, calls and IAM actions from the readers.

No AWS here: these read the declarations (extract/smcost/extractor) against the schemas
(extract/smcost/schemas.py). What the declared calls really call is held to them by
test_extract_scenario.py and test_iam_policy.py, against moto over HTTP.
"""

from __future__ import annotations

import ast
from pathlib import Path

import botocore.session
import pytest

from smcost import lake
from smcost.extractor import catalog, cloudwatch, hyperpod, multi_model, sagemaker, storage, training_plans
from smcost.extractor import pipelines as sagemaker_pipelines
from smcost.extractor.kinds import Custom, Listing
from smcost.schemas import DATASETS, GROUND_TRUTH

ENGINE_COLUMNS = {"account_id", "region", "extracted_at"}  # the engine sets these on every row
EXTRACTOR = Path(sagemaker.__file__).parent
ALL_KINDS = [*sagemaker.KINDS, *hyperpod.KINDS, *storage.KINDS, *cloudwatch.KINDS]
ALL_KINDS += sagemaker_pipelines.KINDS
ALL_KINDS += training_plans.KINDS
ALL_KINDS += multi_model.KINDS


def _tracker_datasets() -> list[str]:
    """The datasets the experiment-tracker sources land (run.land("<dataset>", ...)): not kinds."""
    landed = []
    for module in ("mlflow_source.py", "wandb_source.py"):
        for node in ast.walk(ast.parse((EXTRACTOR / module).read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "land":
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{module}: land() names its dataset literally"
                landed.append(first.value)
    return landed


def test_every_dataset_is_landed_by_exactly_one_kind_or_tracker_source():
    assert sorted([k.dataset for k in ALL_KINDS] + _tracker_datasets()) == sorted(DATASETS)


def test_every_column_is_read_from_its_api_path_or_computed_by_its_kind_never_both():
    for kind in catalog.KINDS.values():
        dataset = DATASETS[kind.dataset]
        api = set(dataset.api_columns)
        if isinstance(kind.reader, Custom):  # its function builds every column
            assert api == set(), f"{kind.dataset}: API paths a Custom reader never reads: {sorted(api)}"
            continue
        computed = set(kind.reader.computed)
        assert computed & api == set(), f"{kind.dataset}: computed and also read from an API path"
        tags = {"tags"} & set(dataset.schema.names)  # from the record's Tags (Search, ListTags)
        missing = set(dataset.schema.names) - ENGINE_COLUMNS - tags - api - computed
        unknown = computed - set(dataset.schema.names)
        assert (missing, unknown) == (set(), set()), f"{kind.dataset}: not read by anything / not in the schema"


def test_list_element_paths_name_the_list_the_kind_explodes():
    for kind in catalog.KINDS.values():
        explode = getattr(kind.reader, "explode", None)
        for column, path in DATASETS[kind.dataset].api_columns.items():
            if "[]" in path:
                assert explode and path.startswith(f"{explode}[].") and path.count("[]") == 1, (kind.dataset, column)


def test_keys_and_the_columns_kinds_name_are_real_columns():
    for dataset in [*DATASETS.values(), GROUND_TRUTH]:
        assert set(dataset.key) <= set(dataset.schema.names), dataset.name
    for kind in catalog.KINDS.values():
        names = set(kind.schema.names)
        reader = kind.reader
        named = {kind.status_column} - {None}
        named |= set(reader.immutable) if isinstance(reader, Listing) else set()
        named |= set(reader.refs.known_columns) if getattr(reader, "refs", None) else set()
        assert named <= names, f"{kind.dataset}: {sorted(named - names)}"
        assert set(kind.replaces) < set(kind.key), f"{kind.dataset}: replaces names part of the key"
        if isinstance(reader, Listing):  # an immutable key is read from the summary by its API paths
            assert set(reader.immutable) <= set(DATASETS[kind.dataset].api_columns), kind.dataset


def test_a_kind_needs_only_kinds_scheduled_before_it():
    order = list(catalog.KINDS)
    for kind in catalog.KINDS.values():
        assert all(order.index(n) < order.index(kind.dataset) for n in kind.needs), kind.dataset


def test_every_declared_operation_exists_in_the_aws_api():
    session = botocore.session.get_session()
    for kind in catalog.KINDS.values():
        for operation in kind.operations:
            service, _, name = operation.partition(":")
            assert name in session.get_service_model(service).operation_names, f"{kind.dataset}: {operation}"


def test_a_row_with_a_column_its_schema_lacks_is_an_error_naming_the_dataset_and_the_column():
    schema = DATASETS["training_jobs"].schema
    with pytest.raises(ValueError, match=r"training_jobs: .*trainig_job_name") as error:
        lake.rows_to_table([{"training_job_arn": "arn", "trainig_job_name": "typo"}], schema, dataset="training_jobs")
    assert "schemas.py" in str(error.value)
    assert lake.rows_to_table([{"training_job_arn": "arn"}], schema).num_rows == 1  # missing columns: null


def test_the_engine_and_the_declarations_do_not_import_each_other():
    """engine -> kinds <- declarations; only the catalog imports the declaration modules."""

    def imports(module: str) -> set[str]:
        tree = ast.parse((EXTRACTOR / f"{module}.py").read_text())
        found = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        found |= {
            f"smcost.extractor.{alias.name}"
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "smcost.extractor"
            for alias in node.names
        }
        return {name.rpartition(".")[2] for name in found if name.startswith("smcost.extractor")}

    declarations = {"sagemaker", "storage", "cloudwatch"}
    assert imports("engine") & (declarations | {"catalog"}) == set()
    for module in declarations:
        assert imports(module) & {"engine", "catalog"} == set(), module
    assert imports("kinds") & (declarations | {"engine", "catalog"}) == set()
