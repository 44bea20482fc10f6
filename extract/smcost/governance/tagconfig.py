"""The tag-key configuration dbt uses, read from the same files, and its matching rule.

dbt reads var `tag_keys` (dbt_project.yml: dimension -> canonical key), seeds/tag_key_aliases.csv
(dimension, tag_key: tolerated spellings) and seeds/tag_allowed_values.csv (dimension, value).
`normalise_tag_key` and `normalise_tag_value` are the Python twins of the SQL macros of the same
names (macros/engine/tags.sql); `resolve` picks a dimension's value among several matching keys by
the rule of macros/normalised_tags.sql. tests/python/test_tags_check.py runs the SQL macros and
these functions on the cases of the dbt unit test and requires the same answers.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

# The checkout this package is installed from (editable install), whatever the working directory.
PROJECT_DIR = Path(__file__).resolve().parents[3]
DIMENSIONS = ("team", "model", "experiment", "environment")

_USER_PREFIX = re.compile(r"^user:")


def normalise_tag_key(key: str) -> str:
    """A tag key as matched against canonical keys and aliases: lowercased, surrounding spaces
    trimmed, a leading `user:` (the bill's prefix for user tags) removed. The SQL macro is
    `regexp_replace(lower(trim(key)), '^user:', '')`; SQL's trim removes spaces only."""
    return _USER_PREFIX.sub("", key.strip(" ").lower())


def normalise_tag_value(value: str) -> str | None:
    """A tag value as attributed: trimmed and lowercased; empty means absent (SQL: nullif(lower(trim(v)), ''))."""
    return value.strip(" ").lower() or None


class ConfigError(ValueError):
    """The project's tag configuration cannot be read: names the file and what is wrong."""


@dataclass(frozen=True)
class Spelling:
    """One accepted spelling of a dimension's key: the canonical key (preference 0) or an alias (1)."""

    dimension: str
    key: str
    preference: int

    @property
    def normalised(self) -> str:
        return normalise_tag_key(self.key)


@dataclass(frozen=True)
class TagConfig:
    """Canonical keys, aliases and allowed values, as dbt sees them."""

    canonical: Mapping[str, str]
    aliases: Mapping[str, tuple[str, ...]]
    allowed_values: Mapping[str, frozenset[str]] = field(default_factory=dict)

    @property
    def spellings(self) -> tuple[Spelling, ...]:
        """Every accepted spelling, canonical keys first (the order the SQL prefers them in)."""
        canonical = tuple(Spelling(d, self.canonical[d], 0) for d in DIMENSIONS)
        aliases = tuple(Spelling(d, alias, 1) for d in DIMENSIONS for alias in self.aliases.get(d, ()))
        return canonical + aliases

    def spellings_of(self, dimension: str) -> tuple[str, ...]:
        """The keys that count for one dimension: the canonical key, then its aliases."""
        return (self.canonical[dimension], *self.aliases.get(dimension, ()))

    def dimension_of(self, key: str) -> Spelling | None:
        """The spelling a tag key matches under the normalisation rule, canonical keys first."""
        normalised = normalise_tag_key(key)
        return next((s for s in self.spellings if s.normalised == normalised), None)

    def is_allowed(self, dimension: str, value: str) -> bool:
        """Whether a value is allowed for a dimension (always, for a dimension without a list)."""
        allowed = self.allowed_values.get(dimension)
        return not allowed or normalise_tag_value(value) in allowed

    def resolve(self, tags: Iterable[tuple[str, str]]) -> dict[str, str]:
        """dimension -> value, by macros/normalised_tags.sql's rule: empty values ignored; among
        the keys naming one dimension, a canonical key before an alias, a key spelled exactly as
        configured before a variant (ml:team before ML:Team), then the keys in byte order."""
        candidates: dict[str, list[tuple[int, int, bytes, str]]] = {}
        for key, value in tags:
            spelling = self.dimension_of(key)
            normalised_value = normalise_tag_value(value)
            if spelling is None or normalised_value is None:
                continue
            exact = 0 if key == spelling.key else 1
            candidates.setdefault(spelling.dimension, []).append(
                (spelling.preference, exact, key.encode(), normalised_value)
            )
        return {dimension: min(found)[3] for dimension, found in candidates.items()}


def load_tag_config(project_dir: Path = PROJECT_DIR) -> TagConfig:
    """Reads var tag_keys from dbt_project.yml and the two seeds of `project_dir`."""
    project_file = project_dir / "dbt_project.yml"
    try:
        project = yaml.safe_load(project_file.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read {project_file}: {exc}") from exc
    tag_keys = ((project or {}).get("vars") or {}).get("tag_keys")
    if not isinstance(tag_keys, dict) or set(tag_keys) != set(DIMENSIONS):
        raise ConfigError(f"{project_file}: vars.tag_keys must map each of {', '.join(DIMENSIONS)} to a tag key")
    canonical = {d: str(tag_keys[d]) for d in DIMENSIONS}
    aliases: dict[str, list[str]] = {d: [] for d in DIMENSIONS}
    for row in _seed_rows(project_dir / "seeds/tag_key_aliases.csv", ("dimension", "tag_key")):
        aliases[row["dimension"]].append(row["tag_key"])
    allowed: dict[str, set[str]] = {}
    allowed_file = project_dir / "seeds/tag_allowed_values.csv"
    if allowed_file.exists():
        for row in _seed_rows(allowed_file, ("dimension", "value")):
            value = normalise_tag_value(row["value"])
            if value:
                allowed.setdefault(row["dimension"], set()).add(value)
    return TagConfig(
        canonical=canonical,
        aliases={d: tuple(keys) for d, keys in aliases.items()},
        allowed_values={d: frozenset(values) for d, values in allowed.items()},
    )


def _seed_rows(path: Path, columns: tuple[str, str]) -> list[dict[str, str]]:
    try:
        with path.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    for number, row in enumerate(rows, start=2):
        if any(not (row.get(c) or "").strip() for c in columns):
            raise ConfigError(f"{path}:{number}: needs columns {', '.join(columns)}")
        if row[columns[0]] not in DIMENSIONS:
            raise ConfigError(f"{path}:{number}: dimension {row[columns[0]]!r} is not one of {', '.join(DIMENSIONS)}")
    return rows
