"""The shape of a plan file (DESIGN.md, "Files that are contracts"), checked once where a plan
is loaded, so that ``show`` and ``apply`` read only what they can use.

The digest proves a plan was not changed after it was made; it proves nothing about who made
it (anyone can compute it). So a plan with a matching digest may still hold a change that is a
string, a finding without a severity or a change without its before-policy: each is one
``BadInputError`` sentence naming the first such field, not a traceback halfway through a
review or an apply.

Strict where show and apply read: the JSON types must be the ones the planner writes (no
"5" for 5, no 1 for true). Every mapping accepts fields it does not name, so that a plan
written by a newer minor version still loads; what is not read is not checked. Nothing here
changes the plan: its digest is over the plan as read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from remediator.errors import BadInputError
from remediator.field_errors import describe_error


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)


def _short(value: Any) -> str:
    shown = repr(value)
    return shown[:60] + "..." if len(shown) > 60 else shown


def _grant_entry(value: object) -> object:
    """A grant to revoke: its ListGrants entry, as the planner writes it. Apply compares it
    with the live grant of that id before revoking, and show prints its grantee and
    operations, so a bare id, which says neither, is refused."""
    if not isinstance(value, dict):
        raise ValueError(f"expected a ListGrants entry (an object with a GrantId), got "
                         f"{_short(value)}")
    gid = value.get("GrantId")
    if not isinstance(gid, str) or not gid:
        raise ValueError(f"GrantId: expected a non-empty string, got {_short(gid)}")
    for name in ("GranteePrincipal", "GranteeServicePrincipal", "RetiringPrincipal",
                 "RetiringServicePrincipal"):
        if name in value and not isinstance(value[name], str):
            raise ValueError(f"{name}: expected a string, got {_short(value[name])}")
    ops = value.get("Operations", [])
    if not isinstance(ops, list) or not all(isinstance(op, str) for op in ops):
        raise ValueError(f"Operations: expected a list of strings, got {_short(ops)}")
    return value


GrantEntry = Annotated[Any, BeforeValidator(_grant_entry)]


class _Finding(_Shape):
    """What show prints of a change's finding (``Finding.to_dict``)."""

    rule: str
    severity: str
    message: str
    statement: int | None  # null for a finding about the key as a whole


class _Policy(_Shape):
    policy: dict[str, Any]
    policy_sha256: str


class _Check(_Shape):
    name: str
    passed: bool


class _Proof(_Shape):
    """A grant-only change has an empty proof: no policy changed, nothing to prove."""

    ok: bool = False
    checks: list[_Check] = []


class _Change(_Shape):
    key_arn: str
    account: str
    region: str
    key_id: str = ""
    findings: list[_Finding]
    before: _Policy
    after: _Policy
    revoke_grants: list[GrantEntry]
    playbooks: list[str]
    auto_fix: bool
    proof: _Proof = _Proof()


class _PersonFinding(_Shape):
    rule: str


class _PersonItem(_Shape):
    """A "needs a person" item: about a key (``key_arn``) or an IAM policy (``resource``)."""

    key_arn: str | None = None
    resource: str | None = None
    finding: _PersonFinding | None = None
    reason: str


class _Organization(_Shape):
    """The members the plan was proven with; apply checks that each is a 12-digit account id
    (``approval.plan_members``)."""

    id: str
    accounts: list[str]


class PlanShape(_Shape):
    version: Literal[1]
    plan_id: str
    created_at: str
    tool_version: str
    changes: list[_Change]
    needs_a_person: list[_PersonItem]
    organization: _Organization | None = None
    digest: str


def check_plan_shape(plan: Mapping[str, Any], source: str) -> None:
    """BadInputError, one sentence naming ``source`` and the first field that is not as the
    plan format says, unless ``plan`` has the shape show and apply read."""
    try:
        PlanShape.model_validate(plan)
    except ValidationError as exc:
        raise BadInputError(describe_error(source, exc, PlanShape)) from exc
