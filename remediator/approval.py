"""What must hold before apply may touch anything (DESIGN.md safety rules 2, 3 and 4).

Whole-plan gates raise ``RefusedError``: the plan must match its digest and be approved, and
each change's before- and after-policy must be the documents their SHA-256 markers name (the
stale check reads the marker, show and the other gates the document). Per-key
gates return a refusal (status and reason) and leave the key alone while the others go on: the
account must be a configured sandbox *and* STS GetCallerIdentity through that account's own
client must report it; every playbook a change names must be known, and a playbook the
current config and playbooks do not let auto-fix must be named in ``include_manual`` (the
plan's own ``auto_fix`` flag is not trusted); the after-policy must keep the owner root able
to call kms:PutKeyPolicy, and the principal applying it wherever the before-policy let it
(KMS's own lockout safety check, which moto does not make).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from remediator.aws.keyops import KEY_CALL_ERRORS, KeyOps, KeyTarget
from remediator.aws.retry import error_reason
from remediator.config import Config
from remediator.detectors.lockout import root_can_put_key_policy
from remediator.errors import PolicyError, RefusedError
from remediator.plan import PLAN_VERSION, plan_digest, policy_sha256
from remediator.playbooks import PlaybookSet
from remediator.policy import parse_policy
from remediator.policy.caller_lockout import (
    caller_principal,
    lost_put_key_policy,
    varied_context,
)
from remediator.policy.principals import root_arn, split_arn
from remediator.policy.settle import settle_for_context
from remediator.runrecord import (
    REFUSED_LOCKOUT,
    REFUSED_MANUAL,
    REFUSED_NOT_SANDBOX,
    REFUSED_UNKNOWN_PLAYBOOK,
    REFUSED_UNPROVEN,
)
from remediator.types import Context
from remediator.validate import ACCOUNT_ID

log = structlog.get_logger(__name__)

Refusal = tuple[str, str]
"""(refusal status, reason) of one key."""


def check_approval(
    plan: Mapping[str, Any], approve: str | None, confirm: Callable[[str], bool] | None
) -> str:
    """The plan's digest once the plan is intact and approved; RefusedError otherwise.

    ``approve`` must equal the digest; without it, ``confirm(digest)`` (a person at a terminal)
    must answer True.
    """
    digest = plan.get("digest")
    if plan.get("version") != PLAN_VERSION or not isinstance(digest, str):
        raise RefusedError(f"This is not a version {PLAN_VERSION} plan with a digest.")
    if plan_digest(plan) != digest:
        raise RefusedError(
            "The plan does not match its digest: it was changed after it was made; "
            "make a new plan with 'remediator plan'."
        )
    if approve is not None:
        if approve.strip().lower() != digest:
            raise RefusedError(
                f"--approve {approve} is not the digest of this plan ({digest}); approve the "
                "plan you reviewed ('remediator show PLAN' prints its digest)."
            )
        return digest
    if confirm is not None and confirm(digest):
        return digest
    raise RefusedError(
        "The plan was not approved; pass --approve DIGEST with the digest "
        "'remediator show PLAN' prints, or confirm at a terminal."
    )


def keeps_owner_control(policy: Any, ctx: Context) -> bool:
    """Whether ``policy`` lets the owner root call kms:PutKeyPolicy (DESIGN.md rule 4);
    a policy that does not parse does not."""
    try:
        settled = settle_for_context(parse_policy(policy), ctx)
        return root_can_put_key_policy(settled, ctx)
    except PolicyError:
        return False


def plan_targets(plan: Mapping[str, Any]) -> list[KeyTarget]:
    """The key of each change, in plan order; RefusedError when one names no key, names it
    with an ARN of another partition than its Region's, or a key comes twice."""
    targets = []
    for i, change in enumerate(plan.get("changes", [])):
        if not isinstance(change, Mapping):
            raise RefusedError(f"Plan change {i} cannot be applied: it is not a JSON object.")
        try:
            targets.append(KeyTarget.from_entry(change))
            _check_change(change)
        except ValueError as exc:
            raise RefusedError(f"Plan change {i} ({change.get('key_arn')}) cannot be applied: "
                               f"{exc}.") from exc
    _check_once(targets)
    return targets


def _check_once(targets: Sequence[KeyTarget]) -> None:
    """RefusedError when two changes name one key (``KeyTarget.identity``), however their
    ARNs are written."""
    seen: dict[tuple[str, str, str], int] = {}
    for i, target in enumerate(targets):
        first = seen.setdefault(target.identity, i)
        if first != i:
            account, region, key_id = target.identity
            raise RefusedError(
                f"The plan changes key {key_id} of account {account} in {region} more than "
                f"once (changes {first} and {i})."
            )


def _check_change(change: Mapping[str, Any]) -> None:
    """ValueError unless the change has the before/after markers apply compares, and each
    policy is the one its marker names: the stale check compares the live policy with
    before.policy_sha256, while show, the proof and the caller-lockout check read
    before.policy, so the two must be the same document."""
    before, after = change.get("before"), change.get("after")
    if not isinstance(before, Mapping) or not isinstance(before.get("policy"), Mapping):
        raise ValueError("it has no before.policy")
    if before.get("policy_sha256") != policy_sha256(before["policy"]):
        raise ValueError("its before.policy_sha256 is not the SHA-256 of its before.policy")
    if not isinstance(after, Mapping) or not isinstance(after.get("policy"), Mapping):
        raise ValueError("it has no after.policy")
    if after.get("policy_sha256") != policy_sha256(after["policy"]):
        raise ValueError("its after.policy_sha256 is not the SHA-256 of its after.policy")
    revoke = change.get("revoke_grants", [])
    if not isinstance(revoke, list) or not all(_is_grant_entry(g) for g in revoke):
        raise ValueError(
            "its revoke_grants are not grants as ListGrants lists them (objects with GrantId, "
            "GranteePrincipal or GranteeServicePrincipal, and Operations), which apply compares "
            "with the live grants"
        )


def _is_grant_entry(grant: Any) -> bool:
    """A ListGrants entry: its grantee is an ARN or account (GranteePrincipal) or a service
    (GranteeServicePrincipal), one or the other
    (https://docs.aws.amazon.com/kms/latest/APIReference/API_GrantListEntry.html)."""
    return (
        isinstance(grant, Mapping)
        and isinstance(grant.get("GrantId"), str)
        and any(isinstance(grant.get(k), str) for k in ("GranteePrincipal",
                                                           "GranteeServicePrincipal"))
        and isinstance(grant.get("Operations"), list)
    )


# What makes a grant the one the plan shows (its id is the same by construction).
GRANT_IDENTITY = ("GranteePrincipal", "GranteeServicePrincipal", "RetiringPrincipal",
                  "RetiringServicePrincipal", "Operations", "Constraints")


def _grant_field(grant: Mapping[str, Any], name: str) -> Any:
    value = grant.get(name) or None
    if name == "Operations" and value is not None:
        return sorted(str(op) for op in value)
    return value


def grant_identity(grant: Mapping[str, Any]) -> str:
    """What makes two grants the same grant but for their ids (and the name they were given),
    as canonical JSON: the order of an encryption context's keys as listed does not count."""
    return json.dumps([_grant_field(grant, name) for name in (*GRANT_IDENTITY, "Name")],
                      sort_keys=True, default=str)


def grant_drift(
    planned: Sequence[Mapping[str, Any]], live: Sequence[Mapping[str, Any]]
) -> str | None:
    """Why a grant the plan revokes is not the grant ListGrants now lists with its id
    (grantee, retiring principal, operations or constraints differ), or None when each planned
    grant still listed is the one the plan shows (a grant already gone needs no revoking)."""
    by_id = {g.get("GrantId"): g for g in live}
    for grant in planned:
        now = by_id.get(grant["GrantId"])
        if now is None:
            continue
        differ = [
            f"{name} is {_grant_field(now, name)!r}, not {_grant_field(grant, name)!r}"
            for name in GRANT_IDENTITY
            if _grant_field(now, name) != _grant_field(grant, name)
        ]
        if differ:
            return (
                f"grant {grant['GrantId']} is not the grant the plan revokes (its "
                f"{'; its '.join(differ)}): the grants changed since the plan was made, or the "
                "plan was edited; plan again"
            )
    return None


def plan_members(plan: Mapping[str, Any], org_id: str | None) -> frozenset[str]:
    """The members of the trusted organisation ``org_id`` the plan was proven with (its
    ``organization``); empty when the plan holds none, or another organisation's. RefusedError
    when the plan's ``organization`` is not ``{"id", "accounts": [12-digit ids]}``."""
    org = plan.get("organization")
    if org is None:
        return frozenset()
    accounts = org.get("accounts") if isinstance(org, Mapping) else None
    if not (isinstance(org, Mapping) and isinstance(org.get("id"), str)
            and isinstance(accounts, list)
            and all(isinstance(a, str) and ACCOUNT_ID.fullmatch(a) for a in accounts)):
        raise RefusedError(
            "The plan's organization is not an id with a list of 12-digit member accounts; "
            "make a new plan with 'remediator plan'."
        )
    return frozenset(accounts) if org_id is not None and org["id"] == org_id else frozenset()


def preflight(
    plan: Mapping[str, Any],
    targets: Sequence[KeyTarget],
    ops: KeyOps,
    config: Config,
    books: PlaybookSet,
    include_manual: frozenset[str],
) -> dict[str, Refusal]:
    """Key ARN -> refusal for every change that must not be applied (nothing is written).
    The lockout checks know the organisation's members the plan was proven with: an owner they
    leave out is outside ``aws:PrincipalOrgID``."""
    members = plan_members(plan, config.trust.org_id)
    callers = _Callers(ops)
    refusals = {}
    for change, target in zip(plan["changes"], targets, strict=True):
        ctx = config.context_for(target.account, members, target.key_arn)
        refusal = _refusal(change, target, config, books, include_manual, ctx)
        if refusal is None:
            refusal = _identity_refusal(callers.of(target), target)
        if refusal is None:
            refusal = _caller_lockout_refusal(change, ctx, callers.of(target))
        if refusal is not None:
            refusals[target.key_arn] = refusal
            log.warning(
                "apply.refused", key_arn=target.key_arn, status=refusal[0], reason=refusal[1]
            )
    return refusals


def playbook_refusal(
    names: Any, books: PlaybookSet, include_manual: frozenset[str]
) -> Refusal | None:
    """Whether the playbooks a change names let apply make it now, decided from the current
    config and playbooks, never from the plan's ``auto_fix`` flag: each must be known, and
    auto-fix or named in ``include_manual``. A change that names none is left to a person."""
    named = sorted({str(n) for n in names}) if isinstance(names, list) else []
    unknown = [n for n in named if books.by_id(n) is None]
    if unknown:
        return REFUSED_UNKNOWN_PLAYBOOK, (
            f"playbooks {', '.join(unknown)} are not among the configured playbooks "
            f"({', '.join(books.ids())}), so whether they may auto-fix cannot be decided"
        )
    manual = [n for n in named if not _auto_fix(books, n) and n not in include_manual]
    if manual or not named:
        return REFUSED_MANUAL, (
            f"playbooks {', '.join(manual) or '(none named)'} may not auto-fix under the "
            "current config; name each with --include-manual to apply this change"
        )
    return None


def _auto_fix(books: PlaybookSet, playbook_id: str) -> bool:
    book = books.by_id(playbook_id)
    return book is not None and books.allows_auto_fix(book)


def _refusal(
    change: Mapping[str, Any], target: KeyTarget, config: Config, books: PlaybookSet,
    include_manual: frozenset[str], ctx: Context,
) -> Refusal | None:
    if target.account not in config.sandbox_accounts:
        return REFUSED_NOT_SANDBOX, f"account {target.account} is not in sandbox_accounts"
    refusal = playbook_refusal(change.get("playbooks", []), books, include_manual)
    if refusal is not None:
        return refusal
    proof = change.get("proof")
    policy_changed = change["after"]["policy"] != change["before"]["policy"]
    if policy_changed and not (isinstance(proof, Mapping) and proof.get("ok") is True):
        # This tool's planner no longer proposes such a change; a plan an earlier version or
        # anything else wrote may hold one.
        return REFUSED_UNPROVEN, "the change's proof did not pass, so it is not applied"
    if not keeps_owner_control(change["after"]["policy"], ctx):
        return REFUSED_LOCKOUT, (
            f"the after-policy would not let the owner root "
            f"{root_arn(target.account, ctx.partition)} call kms:PutKeyPolicy, which could "
            "lock the key out"
        )
    return None


@dataclass(frozen=True, slots=True)
class _Caller:
    """Who STS GetCallerIdentity reports through one account's client: its account (or the
    error that prevented reading it), the principal a key policy sees, and for a role session
    the role's ARN with its path (None when GetRole could not read it)."""

    account: str
    principal: str | None = None
    role_arn: str | None = None


class _Callers:
    """The caller of each account, read once per account."""

    def __init__(self, ops: KeyOps) -> None:
        self._ops = ops
        self._seen: dict[str, _Caller] = {}

    def of(self, target: KeyTarget) -> _Caller:
        if target.account not in self._seen:
            self._seen[target.account] = self._read(target)
        return self._seen[target.account]

    def _read(self, target: KeyTarget) -> _Caller:
        try:
            account, arn = self._ops.caller_identity(target.account, target.region)
        except KEY_CALL_ERRORS as exc:
            return _Caller(f"an error ({error_reason(exc)})")
        principal = caller_principal(arn)
        parts = split_arn(principal or "")
        if parts is None or not parts.resource.startswith("assumed-role/"):
            return _Caller(account, principal)
        name = parts.resource.split("/")[1]
        try:
            return _Caller(account, principal, self._ops.role_arn(account, target.region, name))
        except KEY_CALL_ERRORS as exc:
            # Without the path, a key policy naming the role with one may not match it, which
            # can only refuse more changes (the message names the role as it was read).
            log.warning("apply.caller_role_unread", account=account, role=name,
                        reason=error_reason(exc))
            return _Caller(account, principal)


def _identity_refusal(caller: _Caller, target: KeyTarget) -> Refusal | None:
    """Rule 3: STS, through the account's own client, must report the account itself."""
    if caller.account == target.account:
        return None
    return REFUSED_NOT_SANDBOX, (
        f"STS GetCallerIdentity for account {target.account} reports {caller.account}, "
        "so it cannot be confirmed as the sandbox"
    )


def _caller_lockout_refusal(
    change: Mapping[str, Any], ctx: Context, caller: _Caller
) -> Refusal | None:
    """Rule 4, as KMS's own lockout safety check: the after-policy must let the principal that
    applies it call kms:PutKeyPolicy wherever the before-policy did (policy.caller_lockout);
    otherwise KMS would refuse the change, and the tool could not roll it back."""
    if change["after"]["policy"] == change["before"]["policy"]:
        return None  # grants only: apply puts no policy
    if caller.principal is None:
        return REFUSED_LOCKOUT, (
            "STS GetCallerIdentity did not report an IAM principal, so whether the change "
            "leaves it able to call kms:PutKeyPolicy cannot be checked"
        )
    try:
        before = settle_for_context(parse_policy(change["before"]["policy"]), ctx)
        after = settle_for_context(parse_policy(change["after"]["policy"]), ctx)
    except PolicyError as exc:
        return REFUSED_LOCKOUT, f"the plan's policies do not parse ({exc})"
    lost = lost_put_key_policy(before, after, ctx, caller.principal, caller.role_arn)
    if lost is None:
        return None
    varied = varied_context(lost)
    where = f" in a request with {varied}" if varied else ""
    return REFUSED_LOCKOUT, (
        f"the after-policy would take kms:PutKeyPolicy from {lost.principal}, the principal "
        f"applying it{where}, which KMS's lockout safety check refuses (and the tool could "
        "not roll the change back); apply as the owner root or a configured administrator"
    )
