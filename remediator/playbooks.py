"""Declarative playbooks: load, validate, and look up which playbook handles a rule.

A bad playbook is rejected at start-up with its file name, the field and what was expected.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from remediator.detectors.rules import RULES
from remediator.errors import BadInputError
from remediator.patches import OPERATIONS
from remediator.policy import actions as kms

# The shipped playbooks live in the repository's top-level playbooks/ folder; an installed copy
# (the Docker image) points at them with KMS_REMEDIATOR_PLAYBOOKS.
BUILTIN_FOLDER = Path(
    os.environ.get("KMS_REMEDIATOR_PLAYBOOKS")
    or Path(__file__).resolve().parent.parent / "playbooks"
)
_ID = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class PlaybookError(BadInputError):
    """A playbook file is missing, unreadable or invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OperationSpec(_Strict):
    op: str
    params: dict[str, Any] = Field(default_factory=dict)

    @field_validator("op")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in OPERATIONS:
            raise ValueError(
                f"unknown operation {value!r}; valid operations are {', '.join(sorted(OPERATIONS))}"
            )
        return value


class Strategy(_Strict):
    name: Annotated[str, Field(pattern=_ID)]
    operations: Annotated[tuple[OperationSpec, ...], Field(min_length=1)]


class Playbook(_Strict):
    id: Annotated[str, Field(pattern=_ID)]
    title: Annotated[str, Field(min_length=3)]
    rules: Annotated[tuple[str, ...], Field(min_length=1)]
    auto_fix: bool
    risk: Annotated[str, Field(min_length=3)]
    backout: Annotated[str, Field(min_length=3)]
    strategies: Annotated[tuple[Strategy, ...], Field(min_length=1)]
    removable_actions: tuple[str, ...] = ()
    removable_all_actions: bool = False

    @field_validator("rules")
    @classmethod
    def _known_rules(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in value if r not in RULES]
        if unknown:
            raise ValueError(f"unknown rule ids {unknown}; valid ids are {', '.join(RULES)}")
        return value

    @field_validator("removable_actions")
    @classmethod
    def _known_actions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [a for a in value if not kms.bit(a)]
        if unknown:
            raise ValueError(f"not KMS key actions: {unknown}")
        return value

    def removable(self) -> frozenset[str]:
        """Action names this playbook may take away from principals that are not authorised."""
        if self.removable_all_actions:
            return frozenset(kms.full_names(kms.ALL_KEY_ACTIONS))
        mask = 0
        for a in self.removable_actions:
            mask |= kms.bit(a)
        return frozenset(kms.full_names(mask))


def _describe(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "(top level)"
    return f"field {where}: {err['msg']}"


def load_playbook(path: Path) -> Playbook:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlaybookError(f"cannot read playbook {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise PlaybookError(f"playbook {path} is not UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise PlaybookError(f"playbook {path} is not valid YAML: {exc}") from None
    except RecursionError:
        raise PlaybookError(f"playbook {path} is nested too deeply to be a playbook") from None
    if not isinstance(data, Mapping):
        raise PlaybookError(f"playbook {path} must be a YAML mapping with id, title, rules, ...")
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        raise PlaybookError(f"playbook {path}: {_describe(exc)}") from None


@dataclass(frozen=True, slots=True)
class PlaybookSet:
    """Every loaded playbook, in the order they are applied, and the rule → playbook index."""

    playbooks: tuple[Playbook, ...]
    auto_fix: Mapping[str, bool]

    def for_rule(self, rule: str) -> Playbook | None:
        return next((p for p in self.playbooks if rule in p.rules), None)

    def allows_auto_fix(self, playbook: Playbook) -> bool:
        return self.auto_fix.get(playbook.id, playbook.auto_fix)

    def by_id(self, playbook_id: str) -> Playbook | None:
        return next((p for p in self.playbooks if p.id == playbook_id), None)

    def ids(self) -> list[str]:
        return [p.id for p in self.playbooks]


def check_playbook_names(names: Iterable[str], known: Iterable[str],
                         option: str = "--include-manual") -> None:
    """BadInputError naming every playbook of ``names`` (given as ``option``) not ``known``."""
    known = list(dict.fromkeys(known))
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise BadInputError(f"{option} names unknown playbooks ({', '.join(unknown)}); known "
                            f"playbooks are {', '.join(known)}")


# The owner root first (no other patch can pass the lockout check without it), then exposure,
# so that later playbooks see a policy already closed to outsiders.
APPLY_ORDER = (
    "missing-root",
    "external-grant",
    "public-principal",
    "untrusted-account",
    "unscoped-service",
    "destructive-actions",
    "wildcard-action",
    "separation-of-duties",
    "via-service",
)


def load_playbooks(
    folders: Iterable[str | Path] = (), auto_fix: Mapping[str, bool] | None = None
) -> PlaybookSet:
    """The built-in playbooks plus those in ``folders``; a user playbook replaces a built-in
    one with the same id."""
    by_id: dict[str, Playbook] = {}
    for folder in [BUILTIN_FOLDER, *map(Path, folders)]:
        if not folder.is_dir():
            raise PlaybookError(f"playbook folder {folder} does not exist")
        for path in sorted(folder.glob("*.yaml")):
            book = load_playbook(path)
            by_id[book.id] = book
    order = {pid: i for i, pid in enumerate(APPLY_ORDER)}
    books = sorted(by_id.values(), key=lambda b: (order.get(b.id, len(order)), b.id))
    unknown = sorted(set(auto_fix or {}) - set(by_id))
    if unknown:
        raise PlaybookError(
            f"playbooks.auto_fix names unknown playbooks ({', '.join(unknown)}); "
            f"known playbooks are {', '.join(sorted(by_id))}."
        )
    return PlaybookSet(tuple(books), dict(auto_fix or {}))
