"""dbt-project-evaluator's rules, ported to Python over a dbt manifest.

dbt-labs/dbt-project-evaluator cannot be installed here (no dbt Hub), so this module applies its
rules to ``target/manifest.json`` the way its models do (snapshot 927abbd, ``models/marts/**``):

- the graph is ``int_all_graph_resources``: every node, source and exposure of the project, with
  the model type taken from its prefix first and then from the folder nearest the file;
- the DAG is ``int_all_dag_relationships``: one row per path from a resource to each resource
  downstream of it (distance 0 is the resource itself), tests left out;
- each rule is the function named after the evaluator's fact model (``fct_...``), returning that
  model's rows;
- accepted exceptions are rows of the evaluator's seed format
  (``fct_name,column_name,id_to_exclude,comment``) and drop a rule's rows whose ``column_name`` is
  ``like`` ``id_to_exclude``, as its ``filter_exceptions()`` macro does. The coverage rules take no
  exceptions, as in the evaluator.

One rule is this project's own: ``fct_column_documentation_coverage`` (the evaluator measures model
descriptions only; this project also wants every column of every layer described).

Conventions are the evaluator's vars with the project's choices (``Conventions``).
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

Row = dict[str, Any]


@dataclass(frozen=True)
class Conventions:
    """The evaluator's vars (its dbt_project.yml), set to this project's choices where they differ."""

    # Our generic test carries dbt-utils' name, in our namespace until the package is installed:
    # both spellings count, so the swap changes nothing here.
    primary_key_test_macros: tuple[tuple[str, ...], ...] = (
        ("dbt.test_unique", "dbt.test_not_null"),
        ("dbt_utils.test_unique_combination_of_columns",),
        ("smcost.test_unique_combination_of_columns",),
    )
    enforced_primary_key_node_types: tuple[str, ...] = ("model",)
    models_fanout_threshold: int = 3
    too_many_joins_threshold: int = 7
    folders: tuple[tuple[str, str], ...] = (
        ("base", "base"),
        ("staging", "staging"),
        ("intermediate", "intermediate"),
        ("marts", "marts"),
    )
    # One mart naming scheme (STYLE.md): fct_ only, so a dim_ model fails the naming rule.
    prefixes: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("base", ("base_",)),
        ("staging", ("stg_",)),
        ("intermediate", ("int_",)),
        ("marts", ("fct_",)),
        ("other", ("rpt_",)),
    )
    # The evaluator's value for Athena (production); DuckDB's would be 5.
    chained_views_threshold: int = 4
    documentation_coverage_target: float = 100
    test_coverage_target: float = 100
    # Per model type: the share of each layer's columns that must be described (this project's rule).
    column_documentation_coverage_target: tuple[tuple[str, float], ...] = (
        ("staging", 100),
        ("intermediate", 100),
        ("marts", 100),
        ("other", 100),
    )
    comment_chars: tuple[str, ...] = ("--",)

    def model_type_of_prefix(self, prefix: str | None) -> str | None:
        return next((kind for kind, values in self.prefixes if prefix in values), None)


@dataclass(frozen=True)
class Resource:
    """One row of the evaluator's int_all_graph_resources."""

    id: str
    name: str  # resource_name: source_name.table for sources
    resource_type: str
    file_path: str
    package_name: str
    model_type: str | None = None
    model_type_folder: str | None = None
    prefix: str | None = None
    materialized: str | None = None
    access: str | None = None
    is_contract_enforced: bool = False
    is_described: bool = False
    columns: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (name, description, constraint types)
    source_name: str | None = None
    is_source_described: bool = False
    loaded_at_field: str | None = None
    is_freshness_enabled: bool = False
    location: str | None = None  # database.schema.identifier, for sources
    column_name: str | None = None  # a test's column
    macro_dependencies: str = "[]"
    is_generic_test: bool = False
    raw_code: str = ""
    depends_on: tuple[str, ...] = ()
    attached_node: str | None = None

    @property
    def directory_path(self) -> str:
        return self.file_path.rsplit("/", 1)[0] + "/" if "/" in self.file_path else ""

    @property
    def file_name(self) -> str:
        return self.file_path.rsplit("/", 1)[-1]

    @property
    def is_public(self) -> bool:
        return self.access == "public"

    @property
    def total_defined_columns(self) -> int:
        return len(self.columns)

    @property
    def total_described_columns(self) -> int:
        return sum(1 for _, description, _ in self.columns if description)


def _has_threshold(freshness: dict | None) -> bool:
    if not freshness:
        return False
    return any((freshness.get(kind) or {}).get("count") for kind in ("warn_after", "error_after"))


def _model_types(conventions: Conventions, name: str, resource_type: str, directory_path: str) -> tuple:
    """(prefix, model_type_folder, model_type) as the evaluator computes them."""
    prefix = None if resource_type == "source" else name.split("_", 1)[0] + "_"
    if resource_type in ("test", "source", "metric", "exposure", "seed"):
        return prefix, None, None
    # The folder name appearing last in the path is the one nearest the file.
    positions = [(directory_path.find(f"/{folder}/") + 1, kind) for kind, folder in conventions.folders]
    position, folder_type = max(positions)
    model_type_folder = folder_type if position > 0 else None
    return prefix, model_type_folder, conventions.model_type_of_prefix(prefix) or model_type_folder or "other"


def resources_of(manifest: dict, conventions: Conventions) -> dict[str, Resource]:
    """The graph resources of the project (enabled nodes, sources and exposures)."""
    project = manifest["metadata"].get("project_name")
    out: dict[str, Resource] = {}
    for node in manifest["nodes"].values():
        if not node["config"].get("enabled", True):
            continue
        name = f"{node['name']}.v{node['version']}" if node.get("version") else node["name"]
        directory = node["original_file_path"].rsplit("/", 1)[0] + "/"
        prefix, folder_type, model_type = _model_types(conventions, node["name"], node["resource_type"], directory)
        out[node["unique_id"]] = Resource(
            id=node["unique_id"],
            name=name,
            resource_type=node["resource_type"],
            file_path=node["original_file_path"],
            package_name=node["package_name"],
            model_type=model_type,
            model_type_folder=folder_type,
            prefix=prefix,
            materialized=node["config"].get("materialized"),
            access=node.get("access"),
            is_contract_enforced=bool((node.get("contract") or {}).get("enforced")),
            is_described=bool(node.get("description")),
            columns=tuple(
                (c["name"], c.get("description") or "", tuple(k["type"] for k in c.get("constraints") or ()))
                for c in node.get("columns", {}).values()
            ),
            column_name=node.get("column_name") or None,
            macro_dependencies=json.dumps(node.get("depends_on", {}).get("macros", [])),
            is_generic_test=bool(node.get("test_metadata")),
            raw_code=(node.get("raw_code") or "") if node.get("language", "sql") == "sql" else "",
            depends_on=tuple(dict.fromkeys(node.get("depends_on", {}).get("nodes", []))),
            attached_node=node.get("attached_node"),
        )
    for source in manifest["sources"].values():
        if not source["config"].get("enabled", True):
            continue
        freshness = _has_threshold(source.get("config", {}).get("freshness")) or _has_threshold(source.get("freshness"))
        out[source["unique_id"]] = Resource(
            id=source["unique_id"],
            name=f"{source['source_name']}.{source['name']}",
            resource_type="source",
            file_path=source["original_file_path"],
            package_name=source["package_name"],
            is_described=bool(source.get("description")),
            columns=tuple((c["name"], c.get("description") or "", ()) for c in source.get("columns", {}).values()),
            source_name=source["source_name"],
            is_source_described=bool(source.get("source_description")),
            loaded_at_field=source.get("loaded_at_field") or source.get("loaded_at_query"),
            is_freshness_enabled=freshness,
            location=".".join(
                part for part in (source.get("database"), source["schema"], source["identifier"]) if part
            ),
        )
    for exposure in manifest["exposures"].values():
        out[exposure["unique_id"]] = Resource(
            id=exposure["unique_id"],
            name=exposure["name"],
            resource_type="exposure",
            file_path=exposure["original_file_path"],
            package_name=exposure["package_name"],
            is_described=bool(exposure.get("description")),
            depends_on=tuple(dict.fromkeys(exposure.get("depends_on", {}).get("nodes", []))),
        )
    return {k: v for k, v in out.items() if v.package_name == project or project is None}


@dataclass(frozen=True)
class Relationship:
    """One row of int_all_dag_relationships: a path from ``parent`` down to ``child``."""

    parent: Resource
    child: Resource
    path: tuple[str, ...]
    is_dependent_on_chain_of_views: bool | None

    @property
    def distance(self) -> int:
        return len(self.path) - 1


@dataclass
class Project:
    """The manifest as the evaluator's models see it."""

    resources: dict[str, Resource]
    conventions: Conventions = field(default_factory=Conventions)

    @classmethod
    def from_manifest(cls, manifest: dict, conventions: Conventions | None = None) -> Project:
        conventions = conventions or Conventions()
        return cls(resources_of(manifest, conventions), conventions)

    def of_type(self, *types: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.resource_type in types]

    def children(self) -> dict[str, list[str]]:
        """Direct children of every resource (tests excluded, as the evaluator's DAG does)."""
        out: dict[str, list[str]] = defaultdict(list)
        for resource in self.resources.values():
            if resource.resource_type == "test":
                continue
            for parent in resource.depends_on:
                if parent in self.resources and resource.id not in out[parent]:
                    out[parent].append(resource.id)
        return out

    @cached_property
    def _paths(self) -> list[Relationship]:
        children = self.children()
        rows: list[Relationship] = []

        def walk(start: Resource, path: tuple[str, ...], chain: bool | None) -> None:
            here = self.resources[path[-1]]
            rows.append(Relationship(start, here, path, chain))
            for child in children.get(here.id, []):
                # A path's chain flag: every resource before the child is a view (or ephemeral).
                walk(start, (*path, child), here.materialized in ("view", "ephemeral") and chain is not False)

        for resource in self.resources.values():
            if resource.resource_type != "test":
                walk(resource, (resource.id,), None)
        return rows

    def relationships(self) -> list[Relationship]:
        """Every path from each resource to each of its descendants, including the resource itself."""
        return self._paths

    def direct(self) -> list[Relationship]:
        return [r for r in self.relationships() if r.distance == 1]

    def test_relationships(self) -> Iterator[tuple[Resource, str | None, bool]]:
        """(test, direct parent, is primary): the parent a test is attached to is its primary one."""
        for test in self.of_type("test"):
            if not test.depends_on:
                yield test, None, False
            for index, parent in enumerate(test.depends_on):
                primary = parent == test.attached_node if test.attached_node else index == len(test.depends_on) - 1
                yield test, parent, primary


# --------------------------------------------------------------------------------------------
# Modeling
# --------------------------------------------------------------------------------------------


def fct_staging_dependent_on_staging(p: Project) -> list[Row]:
    return [
        {
            "parent": r.parent.name,
            "parent_model_type": r.parent.model_type,
            "child": r.child.name,
            "child_model_type": r.child.model_type,
        }
        for r in p.direct()
        if {r.parent.resource_type, r.child.resource_type} <= {"model", "snapshot"}
        and r.parent.model_type == "staging"
        and r.child.model_type == "staging"
    ]


def fct_source_fanout(p: Project) -> list[Row]:
    children: dict[str, set[str]] = defaultdict(set)
    for r in p.direct():
        if r.parent.resource_type == "source" and r.child.resource_type == "model":
            children[r.parent.name].add(r.child.name)
    return [
        {"parent": parent, "model_children": ", ".join(sorted(kids))}
        for parent, kids in sorted(children.items())
        if len(kids) > 1
    ]


def fct_rejoining_of_upstream_concepts(p: Project) -> list[Row]:
    """A parent that is both the direct parent and a grandparent of a child, through an in-between
    model with no other child. When the in-between model has other children, the evaluator calls the
    shape deliberate (shared code) and leaves it alone."""
    relationships = [
        r
        for r in p.relationships()
        if r.parent.resource_type not in ("exposure", "metric") and r.child.resource_type not in ("exposure", "metric")
    ]
    distances: dict[tuple[str, str], set[int]] = defaultdict(set)
    direct_children: dict[str, set[str]] = defaultdict(set)
    direct_count: Counter[str] = Counter()
    for r in relationships:
        distances[(r.parent.id, r.child.id)].add(r.distance)
        if r.distance == 1:
            direct_children[r.parent.id].add(r.child.id)
            direct_count[r.parent.id] += 1
    rows = []
    for (parent, child), seen in sorted(distances.items()):
        if not {1, 2} <= seen:
            continue
        for in_between in sorted(direct_children[parent]):
            if child in direct_children[in_between] and direct_count[in_between] == 1:
                rows.append(
                    {
                        "parent": p.resources[parent].name,
                        "child": p.resources[child].name,
                        "parent_and_child": p.resources[in_between].name,
                        "is_loop_independent": True,
                    }
                )
    return rows


def fct_model_fanout(p: Project) -> list[Row]:
    relationships = p.relationships()
    has_children = {r.parent.id for r in relationships if r.distance > 0}
    leaves = {r.id for r in p.of_type("model") if r.id not in has_children}
    fanout: dict[tuple[str, str | None], set[str]] = defaultdict(set)
    for r in relationships:
        if r.distance == 1 and r.child.resource_type == "model" and r.child.id in leaves:
            fanout[(r.parent.name, r.parent.model_type)].add(r.child.name)
    return [
        {"parent": parent, "parent_model_type": model_type, "leaf_children": ", ".join(sorted(kids))}
        for (parent, model_type), kids in sorted(fanout.items(), key=lambda item: item[0][0])
        if len(kids) >= p.conventions.models_fanout_threshold
    ]


def fct_marts_or_intermediate_dependent_on_source(p: Project) -> list[Row]:
    return [
        {
            "parent": r.parent.name,
            "parent_resource_type": "source",
            "child": r.child.name,
            "child_model_type": r.child.model_type,
        }
        for r in p.direct()
        if r.parent.resource_type == "source" and r.child.model_type in ("marts", "intermediate")
    ]


def fct_direct_join_to_source(p: Project) -> list[Row]:
    direct = [r for r in p.direct() if r.child.resource_type == "model"]
    kinds: dict[str, set[str]] = defaultdict(set)
    for r in direct:
        kinds[r.child.id].add(r.parent.resource_type)
    return [
        {
            "parent": r.parent.name,
            "parent_resource_type": r.parent.resource_type,
            "child": r.child.name,
            "child_resource_type": r.child.resource_type,
            "distance": 1,
        }
        for r in sorted(direct, key=lambda r: (r.child.name, r.parent.name))
        if {"model", "source"} <= kinds[r.child.id]
    ]


def fct_duplicate_sources(p: Project) -> list[Row]:
    by_location: dict[str, list[str]] = defaultdict(list)
    for source in p.of_type("source"):
        by_location[source.location or ""].append(source.name)
    return [
        {"source_db_location": location, "source_names": ", ".join(sorted(names))}
        for location, names in sorted(by_location.items())
        if len(names) > 1
    ]


# The evaluator's find_all_hard_coded_references regexes, verbatim in meaning.
_NOT_AFTER_DISTINCT = r"(?<!distinct\s)"
_HARD_CODED = {
    "from_var_1": _NOT_AFTER_DISTINCT + r"(from|join)\s+({{\s*var\s*\(\s*['\"]?)([^)'\"]+)(['\"]?\s*)(\)\s*}})",
    "from_var_2": _NOT_AFTER_DISTINCT
    + r"(from|join)\s+({{\s*var\s*\(\s*['\"]?)([^)'\"]+)(['\"]?\s*)(,)(\s*['\"]?)([^)'\"]+)(['\"]?\s*)(\)\s*}})",
    "from_table_1": _NOT_AFTER_DISTINCT
    + r"(from|join)\s+([\[`\"']?)(\w+-?\w*)([\]`\"']?)(\.)([\[`\"']?)(\w+-?\w*)([\]`\"']?)(?=\s|$)",
    "from_table_2": _NOT_AFTER_DISTINCT
    + r"(from|join)\s+([\[`\"']?)(\w+-?\w*)([\]`\"']?)(\.)([\[`\"']?)(\w+-?\w*)([\]`\"']?)(\.)([\[`\"']?)"
    r"(\w+-?\w*)([\]`\"']?)(?=\s|$)",
    "from_table_3": _NOT_AFTER_DISTINCT + r"(from|join)\s+([\[`\"'])(\w+-?\w+)([\]`\"'])(?=\s|$)",
}


def hard_coded_references(raw_code: str, comment_chars: Iterable[str] = ("--",)) -> list[str]:
    code = re.sub("(" + "|".join(re.escape(c) for c in comment_chars) + ").*", "", raw_code)
    found = set()
    for pattern in _HARD_CODED.values():
        for match in re.findall(pattern, code, re.IGNORECASE):
            found.add("".join(match[1:]).strip())
    return sorted(found)


def fct_hard_coded_references(p: Project) -> list[Row]:
    rows = []
    for model in sorted(p.of_type("model"), key=lambda r: r.name):
        references = hard_coded_references(model.raw_code, p.conventions.comment_chars)
        if references:
            rows.append({"model": model.name, "hard_coded_references": ", ".join(references)})
    return rows


def fct_multiple_sources_joined(p: Project) -> list[Row]:
    sources: dict[str, set[str]] = defaultdict(set)
    for r in p.direct():
        if r.parent.resource_type == "source":
            sources[r.child.name].add(r.parent.name)
    return [
        {"child": child, "source_parents": ", ".join(sorted(parents))}
        for child, parents in sorted(sources.items())
        if len(parents) > 1
    ]


def fct_root_models(p: Project) -> list[Row]:
    with_parents = {r.child.id for r in p.relationships() if r.distance > 0}
    return [{"child": m.name} for m in sorted(p.of_type("model"), key=lambda r: r.name) if m.id not in with_parents]


def fct_staging_dependent_on_marts_or_intermediate(p: Project) -> list[Row]:
    return [
        {
            "parent": r.parent.name,
            "parent_model_type": r.parent.model_type,
            "child": r.child.name,
            "child_model_type": r.child.model_type,
        }
        for r in p.direct()
        if r.parent.resource_type == "model"
        and r.child.resource_type == "model"
        and r.child.model_type == "staging"
        and r.parent.model_type in ("marts", "intermediate")
    ]


def fct_unused_sources(p: Project) -> list[Row]:
    used = {r.parent.id for r in p.relationships() if r.distance > 0}
    return [{"parent": s.name} for s in sorted(p.of_type("source"), key=lambda r: r.name) if s.id not in used]


def fct_too_many_joins(p: Project) -> list[Row]:
    parents: dict[Resource, set[str]] = defaultdict(set)
    for r in p.direct():
        if r.child.resource_type == "model":
            parents[r.child].add(r.parent.id)
    return [
        {"resource_name": child.name, "file_path": child.file_path, "join_count": len(ids)}
        for child, ids in sorted(parents.items(), key=lambda item: item[0].name)
        if len(ids) >= p.conventions.too_many_joins_threshold
    ]


# --------------------------------------------------------------------------------------------
# Testing
# --------------------------------------------------------------------------------------------


def model_test_summary(p: Project) -> list[Row]:
    """int_model_test_summary: per model, seed, source and snapshot, whether its primary key is
    tested (unique + not_null on one column, a unique-combination test, or unique + a not_null
    constraint) and how many tests are attached to it."""
    test_sets = p.conventions.primary_key_test_macros

    def uses(test: Resource, macro: str) -> bool:
        return f"macro.{macro}" in test.macro_dependencies

    groups: dict[tuple[str | None, str | None], list[Resource]] = defaultdict(list)
    for test, parent, primary in p.test_relationships():
        if primary:
            groups[(parent, test.column_name)].append(test)
    per_parent: dict[str | None, dict[str, Any]] = defaultdict(
        lambda: {"tested": False, "tests": 0, "constraints": None}
    )
    for (parent, column), tests in groups.items():
        unique_count = sum(1 for t in tests if uses(t, "dbt.test_unique"))
        method_hit = any(
            len({t.id for t in tests if any(uses(t, macro) for macro in test_set)}) >= len(test_set)
            for test_set in test_sets
        )
        declared = {name: kinds for name, _, kinds in p.resources[parent].columns} if parent in p.resources else {}
        mixed = None
        if column in declared:
            mixed = unique_count + (1 if "not_null" in declared[column] else 0)
        summary = per_parent[parent]
        summary["tested"] = summary["tested"] or method_hit or (mixed is not None and mixed >= 2)
        summary["tests"] += len({t.id for t in tests})
        if column in declared:
            summary["constraints"] = (summary["constraints"] or 0) + len(declared[column])
    rows = []
    for resource in p.of_type("model", "seed", "source", "snapshot"):
        summary = per_parent.get(resource.id, {"tested": False, "tests": 0, "constraints": None})
        rows.append(
            {
                "resource_name": resource.name,
                "resource_type": resource.resource_type,
                "model_type": resource.model_type,
                "is_primary_key_tested": summary["tested"],
                "number_of_tests_on_model": summary["tests"],
                "number_of_constraints_on_model": summary["constraints"] or 0,
            }
        )
    return sorted(rows, key=lambda row: row["resource_name"])


def fct_missing_primary_key_tests(p: Project) -> list[Row]:
    return [
        row
        for row in model_test_summary(p)
        if row["resource_type"] in p.conventions.enforced_primary_key_node_types and not row["is_primary_key_tested"]
    ]


def fct_sources_without_freshness(p: Project) -> list[Row]:
    """Sources without a warn_after/error_after threshold. This project also requires the column
    the threshold is measured on: neither dbt-athena nor dbt-duckdb reads freshness from table
    metadata, so a threshold without loaded_at_field could never be evaluated."""
    return [
        {"resource_name": s.name, "is_freshness_enabled": s.is_freshness_enabled, "loaded_at_field": s.loaded_at_field}
        for s in sorted(p.of_type("source"), key=lambda r: r.name)
        if not s.is_freshness_enabled or not s.loaded_at_field
    ]


def fct_test_coverage(p: Project) -> list[Row]:
    """Coverage (no exceptions): one row per model type below test_coverage_target, naming the untested models."""
    models = [row for row in model_test_summary(p) if row["resource_type"] == "model"]
    return _coverage_rows(
        models,
        lambda row: row["number_of_tests_on_model"] > 0,
        lambda row: row["model_type"],
        lambda row: row["resource_name"],
        lambda _: p.conventions.test_coverage_target,
    )


def _coverage_rows(
    items: list,
    covered: Callable[[Any], bool],
    kind: Callable[[Any], str | None],
    name: Callable[[Any], str],
    target: Callable[[str | None], float],
) -> list[Row]:
    by_kind: dict[str | None, list] = defaultdict(list)
    for item in items:
        by_kind[kind(item)].append(item)
    rows = []
    for model_type, members in sorted(by_kind.items(), key=lambda item: str(item[0])):
        done = [m for m in members if covered(m)]
        pct = round(len(done) * 100 / len(members), 2)
        if pct < target(model_type):
            rows.append(
                {
                    "model_type": model_type,
                    "coverage_pct": pct,
                    "target_pct": target(model_type),
                    "missing": ", ".join(sorted(name(m) for m in members if not covered(m))),
                }
            )
    return rows


# --------------------------------------------------------------------------------------------
# Documentation
# --------------------------------------------------------------------------------------------


def fct_undocumented_models(p: Project) -> list[Row]:
    return [
        {"resource_name": m.name, "model_type": m.model_type}
        for m in sorted(p.of_type("model"), key=lambda r: r.name)
        if not m.is_described
    ]


def fct_documentation_coverage(p: Project) -> list[Row]:
    """Coverage (no exceptions): model types whose share of described models is below the target."""
    return _coverage_rows(
        p.of_type("model"),
        lambda m: m.is_described,
        lambda m: m.model_type,
        lambda m: m.name,
        lambda _: p.conventions.documentation_coverage_target,
    )


def column_documentation_coverage(p: Project) -> dict[str, tuple[int, int]]:
    """Per model type: (described columns, declared columns), over the columns the YAML declares."""
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for model in p.of_type("model"):
        counts = out[model.model_type or "other"]
        counts[0] += model.total_described_columns
        counts[1] += model.total_defined_columns
    return {kind: (described, declared) for kind, (described, declared) in out.items()}


def fct_column_documentation_coverage(p: Project) -> list[Row]:
    """This project's rule (not the evaluator's): every declared column of every model is described,
    per layer, and a model declares at least one column. That the declared columns are all the
    columns a model builds is checked against a build (test_project_evaluator.py)."""
    targets = dict(p.conventions.column_documentation_coverage_target)
    columns = [(m, name, description) for m in p.of_type("model") for name, description, _ in m.columns]
    columns += [(m, None, "") for m in p.of_type("model") if not m.columns]
    return _coverage_rows(
        columns,
        lambda c: bool(c[2]),
        lambda c: c[0].model_type,
        lambda c: f"{c[0].name}.{c[1] or '(no columns declared)'}",
        lambda kind: targets.get(kind or "other", 100),
    )


def fct_undocumented_source_tables(p: Project) -> list[Row]:
    return [{"resource_name": s.name} for s in sorted(p.of_type("source"), key=lambda r: r.name) if not s.is_described]


def fct_undocumented_sources(p: Project) -> list[Row]:
    names = sorted({s.source_name for s in p.of_type("source") if not s.is_source_described})
    return [{"source_name": name} for name in names]


# --------------------------------------------------------------------------------------------
# Structure
# --------------------------------------------------------------------------------------------


def fct_test_directories(p: Project) -> list[Row]:
    rows = []
    for test, parent, primary in p.test_relationships():
        model = p.resources.get(parent or "")
        if not primary or not test.is_generic_test or model is None or model.resource_type != "model":
            continue
        if model.directory_path != test.directory_path:
            rows.append(
                {
                    "test_name": test.name,
                    "model_name": model.name,
                    "current_test_directory": test.directory_path,
                    "change_test_directory_to": model.directory_path,
                }
            )
    return sorted(rows, key=lambda row: row["test_name"])


def fct_model_naming_conventions(p: Project) -> list[Row]:
    prefixes = dict(p.conventions.prefixes)
    return [
        {
            "resource_name": m.name,
            "prefix": m.prefix,
            "model_type": m.model_type,
            "appropriate_prefixes": ", ".join(sorted(prefixes.get(m.model_type or "", ()))),
        }
        for m in sorted(p.of_type("model"), key=lambda r: r.name)
        if m.prefix not in prefixes.get(m.model_type or "", ())
    ]


def fct_source_directories(p: Project) -> list[Row]:
    return [
        {
            "resource_name": s.name,
            "resource_type": "source",
            "current_file_path": s.file_path,
            "change_file_path_to": f"models/staging/{s.source_name}/{s.file_name}",
        }
        for s in sorted(p.of_type("source"), key=lambda r: r.name)
        if (s.source_name or "") not in s.directory_path
    ]


def fct_model_directories(p: Project) -> list[Row]:
    rows: dict[tuple[str, str], Row] = {}
    for r in p.relationships():
        if (
            r.parent.resource_type == "source"
            and r.child.resource_type == "model"
            and r.child.model_type == "staging"
            and (r.parent.source_name or "") not in r.child.directory_path
        ):
            target = f"models/staging/{r.parent.source_name}/{r.child.file_name}"
            rows[(r.child.name, target)] = {
                "resource_name": r.child.name,
                "resource_type": "model",
                "model_type": "staging",
                "current_file_path": r.child.file_path,
                "change_file_path_to": target,
            }
    folders = dict(p.conventions.folders)
    for resource in p.resources.values():
        if resource.model_type and resource.model_type_folder and resource.model_type != resource.model_type_folder:
            target = f"models/.../{folders.get(resource.model_type, resource.model_type)}/.../{resource.file_name}"
            rows[(resource.name, target)] = {
                "resource_name": resource.name,
                "resource_type": resource.resource_type,
                "model_type": resource.model_type,
                "current_file_path": resource.file_path,
                "change_file_path_to": target,
            }
    return [rows[key] for key in sorted(rows)]


# --------------------------------------------------------------------------------------------
# Performance
# --------------------------------------------------------------------------------------------


def fct_chained_views_dependencies(p: Project) -> list[Row]:
    rows = [
        {
            "parent": r.parent.name,
            "child": r.child.name,
            "distance": r.distance,
            "path": [p.resources[i].name for i in r.path],
        }
        for r in p.relationships()
        if r.distance > 0
        and r.is_dependent_on_chain_of_views
        and r.child.resource_type == "model"
        and r.distance > p.conventions.chained_views_threshold
    ]
    return sorted(rows, key=lambda row: -row["distance"])


def fct_exposure_parents_materializations(p: Project) -> list[Row]:
    return [
        {
            "parent_resource_type": r.parent.resource_type,
            "parent_resource_name": r.parent.name,
            "exposure_name": r.child.name,
            "parent_model_materialization": r.parent.materialized,
        }
        for r in p.direct()
        if r.child.resource_type == "exposure"
        and (
            (r.parent.resource_type == "model" and r.parent.materialized in ("view", "ephemeral"))
            or r.parent.resource_type == "source"
        )
    ]


# --------------------------------------------------------------------------------------------
# Governance
# --------------------------------------------------------------------------------------------


def fct_public_models_without_contract(p: Project) -> list[Row]:
    return [
        {"resource_name": r.name, "is_public": True, "is_contract_enforced": False}
        for r in sorted(p.resources.values(), key=lambda r: r.name)
        if r.is_public and not r.is_contract_enforced
    ]


def fct_exposures_dependent_on_private_models(p: Project) -> list[Row]:
    return [
        {
            "exposure_name": r.child.name,
            "parent_resource_name": r.parent.name,
            "parent_access": r.parent.access,
            "parent_resource_type": r.parent.resource_type,
        }
        for r in p.direct()
        if r.child.resource_type == "exposure" and not (r.parent.resource_type == "model" and r.parent.is_public)
    ]


def fct_undocumented_public_models(p: Project) -> list[Row]:
    return [
        {
            "resource_name": r.name,
            "access": r.access,
            "is_described": r.is_described,
            "total_defined_columns": r.total_defined_columns,
            "total_described_columns": r.total_described_columns,
        }
        for r in sorted(p.resources.values(), key=lambda r: r.name)
        if r.is_public
        and (not r.is_described or r.total_described_columns < r.total_defined_columns or r.total_defined_columns == 0)
    ]


# The evaluator's rules (docs/rules.md, in its order), then this project's own.
RULES: dict[str, Callable[[Project], list[Row]]] = {
    rule.__name__: rule
    for rule in (
        fct_staging_dependent_on_staging,
        fct_source_fanout,
        fct_rejoining_of_upstream_concepts,
        fct_model_fanout,
        fct_marts_or_intermediate_dependent_on_source,
        fct_direct_join_to_source,
        fct_duplicate_sources,
        fct_hard_coded_references,
        fct_multiple_sources_joined,
        fct_root_models,
        fct_staging_dependent_on_marts_or_intermediate,
        fct_unused_sources,
        fct_too_many_joins,
        fct_missing_primary_key_tests,
        fct_sources_without_freshness,
        fct_test_coverage,
        fct_undocumented_models,
        fct_documentation_coverage,
        fct_undocumented_source_tables,
        fct_undocumented_sources,
        fct_test_directories,
        fct_model_naming_conventions,
        fct_source_directories,
        fct_model_directories,
        fct_chained_views_dependencies,
        fct_exposure_parents_materializations,
        fct_public_models_without_contract,
        fct_exposures_dependent_on_private_models,
        fct_undocumented_public_models,
        fct_column_documentation_coverage,
    )
}
# Coverage rules measure the whole project: the evaluator lets no exception remove their rows.
COVERAGE_RULES = frozenset({"fct_test_coverage", "fct_documentation_coverage", "fct_column_documentation_coverage"})


# --------------------------------------------------------------------------------------------
# Exceptions, in the evaluator's seed format
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptedException:
    fct_name: str
    column_name: str
    id_to_exclude: str
    comment: str

    def matches(self, row: Row) -> bool:
        return like(str(row.get(self.column_name, "")), self.id_to_exclude)


def like(value: str, pattern: str) -> bool:
    """SQL ``like``: % is any run of characters, _ any one character."""
    regex = "".join(".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def read_exceptions(path: Path) -> list[AcceptedException]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [
        AcceptedException(row["fct_name"], row["column_name"], row["id_to_exclude"], row["comment"]) for row in rows
    ]


def evaluate(project: Project, exceptions: Iterable[AcceptedException] = ()) -> dict[str, list[Row]]:
    """Every rule's rows, less the rows an exception for that rule covers."""
    exceptions = list(exceptions)
    out = {}
    for name, rule in RULES.items():
        rows = rule(project)
        if name not in COVERAGE_RULES:
            rows = [row for row in rows if not any(e.fct_name == name and e.matches(row) for e in exceptions)]
        out[name] = rows
    return out


def violation_table(results: dict[str, list[Row]], found: dict[str, list[Row]] | None = None) -> str:
    """The rows per rule, for a test's output: found (before exceptions), excepted, left; then each row left."""
    found = found or results
    lines = [f"{'rule':<48} found excepted left", f"{'-' * 48} ----- -------- ----"]
    for name, rows in results.items():
        lines.append(f"{name:<48} {len(found[name]):>5} {len(found[name]) - len(rows):>8} {len(rows):>4}")
    total_found, total_left = sum(len(r) for r in found.values()), sum(len(r) for r in results.values())
    lines.append(f"{'total':<48} {total_found:>5} {total_found - total_left:>8} {total_left:>4}")
    for name, rows in results.items():
        for row in rows:
            lines.append(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in row.items()))
    return "\n".join(lines)
