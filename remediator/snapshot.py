"""The inventory snapshot: what ``scan --snapshot-out`` writes and ``plan --snapshot`` reads.

A versioned contract (DESIGN.md, "Files that are contracts"). A key whose policy could not be
read is kept with ``policy`` null and ``policy_error`` saying why, never dropped, so the plan can
show it as unknown instead of clean.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from remediator.errors import BadInputError
from remediator.field_errors import describe_error
from remediator.outfile import write_text
from remediator.policy.principals import split_arn
from remediator.userjson import loads_strict
from remediator.validate import ACCOUNT_ID, ORG_ID

SNAPSHOT_VERSION = 1


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and fixed separators: equal data, equal text, equal hash."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def utc_now() -> str:
    """Now, as the snapshot writes times: ``2025-01-31T12:00:00Z``."""
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class KeySnapshot:
    """One customer-managed KMS key as read from AWS (one Region: replicas are separate keys)."""

    arn: str
    account: str
    region: str
    key_id: str
    manager: str | None
    state: str
    multi_region: bool | None
    policy: dict[str, Any] | None
    policy_error: str | None
    grants: tuple[dict[str, Any], ...] = ()
    aliases: tuple[str, ...] = ()
    rotation_enabled: bool | None = None
    tags: dict[str, str] = field(default_factory=dict)
    key_spec: str | None = None
    key_usage: str | None = None
    origin: str | None = None
    description: str | None = None
    multi_region_type: str | None = None
    grants_error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            **{name: getattr(self, name) for name in _SCALAR_KEY_FIELDS},
            "grants": list(self.grants),
            "aliases": list(self.aliases),
            "tags": dict(self.tags),
        }


_SCALAR_KEY_FIELDS = tuple(
    name for name in KeySnapshot.__dataclass_fields__ if name not in ("grants", "aliases", "tags")
)


@dataclass(frozen=True, slots=True)
class IamPolicySnapshot:
    """The default version of one customer-managed IAM policy."""

    arn: str
    account: str
    version_id: str
    document: dict[str, Any]
    name: str | None = None
    attachment_count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class OrganizationSnapshot:
    """The trusted organisation as Organizations described it: its id and every member
    account ListAccounts listed (whatever each account's state: membership is what
    ``aws:PrincipalOrgID`` tests)."""

    id: str
    accounts: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "accounts": list(self.accounts)}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one scan read, and every error it met on the way. ``organization`` is the
    trusted organisation's membership, when the scan could read it (None otherwise)."""

    taken_at: str
    keys: tuple[KeySnapshot, ...] = ()
    iam_policies: tuple[IamPolicySnapshot, ...] = ()
    errors: tuple[dict[str, Any], ...] = ()
    version: int = SNAPSHOT_VERSION
    organization: OrganizationSnapshot | None = None

    def members_of(self, org_id: str | None) -> frozenset[str]:
        """The member accounts of ``org_id``, when this snapshot read that organisation's."""
        org = self.organization
        if org_id is None or org is None or org.id != org_id:
            return frozenset()
        return frozenset(org.accounts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "taken_at": self.taken_at,
            "keys": [k.to_dict() for k in self.keys],
            "iam_policies": [p.to_dict() for p in self.iam_policies],
            "errors": list(self.errors),
            "organization": None if self.organization is None else self.organization.to_dict(),
        }


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")  # newer minor fields are read, not refused


class _KeyModel(_Model):
    arn: str
    account: str
    region: str
    key_id: str
    manager: str | None
    state: str
    multi_region: bool | None
    policy: dict[str, Any] | None
    policy_error: str | None
    grants: list[dict[str, Any]]
    aliases: list[str]
    rotation_enabled: bool | None
    tags: dict[str, str]
    key_spec: str | None = None
    key_usage: str | None = None
    origin: str | None = None
    description: str | None = None
    multi_region_type: str | None = None
    grants_error: str | None = None

    @model_validator(mode="after")
    def _policy_or_reason(self) -> _KeyModel:
        if self.policy is None and not self.policy_error:
            raise ValueError("expected policy_error to say why, since policy is null")
        return self


class _IamModel(_Model):
    arn: str
    account: str
    version_id: str
    document: dict[str, Any]
    name: str | None = None
    attachment_count: int | None = None


class _OrganizationModel(_Model):
    id: str
    accounts: list[str]

    @model_validator(mode="after")
    def _ids(self) -> _OrganizationModel:
        if not ORG_ID.fullmatch(self.id):
            raise ValueError(f"id: expected an organization id such as o-a1b2c3d4e5, "
                             f"got {self.id!r}")
        for i, account in enumerate(self.accounts):
            if not ACCOUNT_ID.fullmatch(account):
                raise ValueError(f"accounts[{i}]: expected a 12-digit AWS account id, "
                                 f"got {account!r}")
        return self


class _SnapshotModel(_Model):
    version: Literal[1]
    taken_at: datetime
    keys: list[_KeyModel]
    iam_policies: list[_IamModel]
    errors: list[dict[str, Any]]
    organization: _OrganizationModel | None = None  # absent from older snapshots


def snapshot_from_dict(data: Mapping[str, Any], source: str = "snapshot") -> Snapshot:
    """Validate a parsed snapshot: version, required fields and their types, and what makes
    the keys one estate (one entry per key ARN, accounts that agree with the ARN, grants that
    the detectors and apply can read)."""
    try:
        model = _SnapshotModel.model_validate(data)
    except ValidationError as exc:
        raise BadInputError(describe_error(source, exc, _SnapshotModel)) from exc
    _check_keys(model.keys, source)
    keys = tuple(
        KeySnapshot(**{**k.model_dump(), "grants": tuple(k.grants), "aliases": tuple(k.aliases)})
        for k in model.keys
    )
    return Snapshot(
        taken_at=str(data["taken_at"]),
        keys=keys,
        iam_policies=tuple(IamPolicySnapshot(**p.model_dump()) for p in model.iam_policies),
        errors=tuple(model.errors),
        version=model.version,
        organization=None if model.organization is None else OrganizationSnapshot(
            model.organization.id, tuple(model.organization.accounts)),
    )


def _check_keys(keys: Sequence[_KeyModel], source: str) -> None:
    """One ``BadInputError`` sentence, naming the key, for the first key that is not sound."""
    first_at: dict[str, int] = {}
    for i, key in enumerate(keys):
        problem = _key_problem(key)
        if problem is None and key.arn in first_at:
            problem = f"the same key ARN is already at keys[{first_at[key.arn]}]"
        if problem is not None:
            raise BadInputError(f"{source}: keys[{i}] ({key.arn}): {problem}.")
        first_at[key.arn] = i


def _key_problem(key: _KeyModel) -> str | None:
    if not ACCOUNT_ID.fullmatch(key.account):
        return f"account: expected a 12-digit AWS account id, got {key.account!r}"
    arn = split_arn(key.arn)
    if arn is None or arn.service != "kms" or not arn.resource.startswith("key/"):
        return "arn: expected a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID)"
    if arn.account != key.account:
        return f"account {key.account!r} is not the account in the key ARN ({arn.account!r})"
    return _grants_problem(key.grants)


# ListGrants entries (https://docs.aws.amazon.com/kms/latest/APIReference/API_ListGrants.html):
# the API marks no GrantListEntry member as required, so a principal or Operations may be
# absent; when present they must have the API's types, since detectors, plans and apply read
# them (a null Operations once crashed the grants detector).
_GRANT_STRINGS = ("GranteePrincipal", "GranteeServicePrincipal", "RetiringPrincipal",
                  "RetiringServicePrincipal")


def _grants_problem(grants: Sequence[Mapping[str, Any]]) -> str | None:
    seen: dict[str, int] = {}
    for j, grant in enumerate(grants):
        gid = grant.get("GrantId")
        if not isinstance(gid, str) or not gid:
            return f"grants[{j}].GrantId: expected a non-empty string, got {gid!r}"
        if gid in seen:
            return f"grants[{j}].GrantId: {gid!r} is already the id of grants[{seen[gid]}]"
        seen[gid] = j
        ops = grant.get("Operations", [])
        if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
            return f"grants[{j}].Operations: expected a list of strings, got {_short(ops)}"
        for name in _GRANT_STRINGS:
            if name in grant and not isinstance(grant[name], str):
                return f"grants[{j}].{name}: expected a string, got {_short(grant[name])}"
    return None


def _short(value: Any) -> str:
    shown = repr(value)
    return shown[:60] + "..." if len(shown) > 60 else shown


def load_snapshot(path: str | Path) -> Snapshot:
    """Read and validate a snapshot file; every problem is one ``BadInputError`` sentence."""
    file = Path(path)
    try:
        # Repeated names are refused: dump_snapshot writes dicts, so a snapshot this tool
        # wrote never repeats one, and IAM refuses them in a policy ("More than one Statement
        # element", troubleshoot_policies page); a repeated name means an edited file whose
        # readers may disagree on which value counts.
        data = loads_strict(file.read_text(encoding="utf-8"), str(file), "a snapshot",
                            unique_names=True)
    except OSError as exc:
        raise BadInputError(f"{file}: cannot read the snapshot ({exc.strerror}).") from exc
    except UnicodeDecodeError:
        raise BadInputError(f"{file}: the snapshot is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"{file}: not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}."
        ) from exc
    if not isinstance(data, dict):
        raise BadInputError(f"{file}: expected a JSON object with version, taken_at and keys.")
    return snapshot_from_dict(data, str(file))


def dump_snapshot(snapshot: Snapshot, path: str | Path) -> None:
    """Write the snapshot as canonical JSON (sorted keys, fixed separators) and a newline."""
    write_text(path, canonical_json(snapshot.to_dict()) + "\n", "the snapshot")
