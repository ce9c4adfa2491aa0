"""The plan file: a versioned contract (DESIGN.md) carrying the world it was made from.

Every change holds the key's policy as read ("before", with its SHA-256) so that apply can
refuse a key whose live policy has moved since; the plan's digest is the SHA-256 of the
canonical JSON of everything else, so that any edit to the file is noticed.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from remediator import __version__
from remediator.diffs import structured_diff
from remediator.errors import BadInputError, RemediatorError
from remediator.outfile import write_text
from remediator.plan_shape import check_plan_shape
from remediator.planner import KeyPlan, Unresolved
from remediator.snapshot import (
    IamPolicySnapshot,
    KeySnapshot,
    OrganizationSnapshot,
    canonical_json,
    utc_now,
)
from remediator.types import Finding
from remediator.unread import Unread
from remediator.userjson import loads_strict

PLAN_VERSION = 1


class PlanIntegrityError(RemediatorError):
    """The plan file was edited after it was made, or is not a plan."""


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def policy_sha256(policy: Any) -> str:
    """The marker apply compares: the SHA-256 of the policy's canonical JSON."""
    return sha256_text(canonical_json(policy))


def plan_digest(plan: Mapping[str, Any]) -> str:
    return sha256_text(canonical_json({k: v for k, v in plan.items() if k != "digest"}))


def _person_entry(key: KeySnapshot, finding: Finding | None, playbook: str | None,
                  reason: str) -> dict[str, Any]:
    """A "needs a person" item about a key. ``resource`` is the key ARN again: every item has
    one, so that items about IAM policies (``iam_policy_entry``) read the same way."""
    return {"key_arn": key.arn, "resource": key.arn, "account": key.account,
            "region": key.region, "finding": None if finding is None else finding.to_dict(),
            "playbook": playbook, "reason": reason}


def iam_policy_entry(policy: IamPolicySnapshot, finding: Finding | None,
                     reason: str) -> dict[str, Any]:
    """A "needs a person" item about an IAM policy (a KMS.1 finding, or a document that could
    not be checked): the tool changes key policies and grants only, never IAM policies, so
    these are always left to a person. ``key_arn`` is null: the item is about no key."""
    return {"key_arn": None, "resource": policy.arn, "account": policy.account,
            "region": None, "finding": None if finding is None else finding.to_dict(),
            "playbook": None, "reason": reason}


def unread_entry(unread: Unread) -> dict[str, Any]:
    """A "needs a person" item about what the scan could not read (``remediator.unread``):
    nothing is planned for it, and it must not pass for clean. ``key_arn`` is the key's when
    the item is about one key's grants, else null."""
    return {"key_arn": unread.key_arn, "resource": unread.resource, "account": unread.account,
            "region": unread.region, "finding": None, "playbook": None,
            "reason": unread.reason}


def _unresolved_entry(key: KeySnapshot, u: Unresolved) -> dict[str, Any]:
    entry = _person_entry(key, u.finding, u.playbook, u.reason)
    if u.proposal is not None:
        entry["proposal"] = {"policy": u.proposal, "policy_sha256": policy_sha256(u.proposal)}
    return entry


def _grants_to_revoke(key: KeySnapshot, kp: KeyPlan) -> list[dict[str, Any]]:
    ids = {f.grant_id for f in kp.revoke_grants}
    return [g for g in key.grants if g.get("GrantId") in ids]


def change_entry(key: KeySnapshot, kp: KeyPlan, auto: Mapping[str, bool]) -> dict[str, Any]:
    playbooks = list(dict.fromkeys(s.playbook for s in kp.steps))
    if kp.revoke_grants:
        playbooks.append("external-grant")
    return {
        "key_arn": key.arn,
        "account": key.account,
        "region": key.region,
        "key_id": key.key_id,
        "findings": [f.to_dict() for s in kp.steps for f in s.findings]
        + [f.to_dict() for f in kp.revoke_grants],
        "before": {"policy": kp.before, "policy_sha256": policy_sha256(kp.before),
                   "grants": list(key.grants)},
        "after": {"policy": kp.after, "policy_sha256": policy_sha256(kp.after)},
        "revoke_grants": _grants_to_revoke(key, kp),
        "playbooks": playbooks,
        "steps": [{"playbook": s.playbook, "strategy": s.strategy,
                   "findings": [f.rule for f in s.findings], "proof": s.proof.to_dict()}
                  for s in kp.steps],
        "auto_fix": all(auto.get(p, False) for p in playbooks),
        "proof": kp.proof.to_dict() if kp.proof is not None else {},
        "diff": structured_diff(kp.before, kp.after),
    }


def build_plan(
    keyed: Sequence[tuple[KeySnapshot, KeyPlan | None]],
    config_sha256: str,
    auto_fix: Mapping[str, bool],
    iam_people: Sequence[Mapping[str, Any]] = (),
    organization: OrganizationSnapshot | None = None,
) -> dict[str, Any]:
    """The plan document, digest included. Keys whose policy was unknown or invalid (``None``
    plans, or plans with a ``policy_error``) are never changed: each is listed for a person,
    with the reason and any grant findings it has. ``iam_people`` (``unread_entry``,
    ``iam_policy_entry``) are listed after the keys' items. ``organization``: the trusted
    organisation's members the plan was proven with, so that apply checks each after-policy
    in the same world."""
    changes, people = [], []
    for key, kp in keyed:
        if kp is None or kp.policy_error is not None:
            problem = "could not be read" if kp is None else kp.policy_problem
            detail = key.policy_error if kp is None else kp.policy_error
            people.append(_person_entry(
                key, None, None, f"the key policy {problem}: {detail}; the key is not changed"))
        if kp is None:
            continue
        if kp.changed and kp.policy_error is None:
            changes.append(change_entry(key, kp, auto_fix))
        people.extend(_unresolved_entry(key, u) for u in kp.unresolved)
    people.extend(dict(item) for item in iam_people)
    plan: dict[str, Any] = {
        "version": PLAN_VERSION,
        "plan_id": str(uuid.uuid4()),
        "created_at": utc_now(),
        "tool_version": __version__,
        "config_sha256": config_sha256,
        "changes": changes,
        "needs_a_person": people,
        "organization": None if organization is None else organization.to_dict(),
    }
    plan["digest"] = plan_digest(plan)
    return plan


def write_plan(plan: Mapping[str, Any], path: str | Path) -> None:
    write_text(path, json.dumps(plan, indent=2, sort_keys=True) + "\n", "the plan")


def load_plan(path: str | Path) -> dict[str, Any]:
    """Read a plan, check its digest (PlanIntegrityError when it does not match) and then its
    shape (``plan_shape``: BadInputError naming the first field show or apply could not
    read), so that every reader of a loaded plan may index it as the format says."""
    try:
        data = loads_strict(Path(path).read_text(encoding="utf-8"), f"plan {path}", "a plan")
    except OSError as exc:
        raise BadInputError(f"cannot read plan {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise BadInputError(f"plan {path} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise BadInputError(
            f"plan {path} is not valid JSON (line {exc.lineno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict) or data.get("version") != PLAN_VERSION or "digest" not in data:
        raise PlanIntegrityError(f"{path} is not a version {PLAN_VERSION} plan file")
    if plan_digest(data) != data["digest"]:
        raise PlanIntegrityError(
            f"plan {path} does not match its digest: it was changed after it was made; "
            "make a new plan with 'remediator plan'"
        )
    # After the digest: an edited plan is reported as edited, whatever its shape. The digest
    # is recomputable, so a matching one says nothing about the shape.
    check_plan_shape(data, str(path))
    _check_markers(data, str(path))
    return data


def _check_markers(plan: Mapping[str, Any], source: str) -> None:
    """Each change's before and after policies must be the ones their SHA-256 markers name:
    apply compares the live key with the marker and writes the policy, and show renders the
    policies, so a plan whose two disagree would be reviewed as one change and applied as
    another (found by review)."""
    for i, change in enumerate(plan["changes"]):
        for side in ("before", "after"):
            if policy_sha256(change[side]["policy"]) != change[side]["policy_sha256"]:
                raise PlanIntegrityError(
                    f"{source}: changes[{i}].{side}.policy_sha256 is not the SHA-256 of "
                    f"changes[{i}].{side}.policy; make a new plan with 'remediator plan'")
