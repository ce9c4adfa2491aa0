"""Findings + playbooks → one proven change per key.

For every finding a playbook handles, the planner tries the playbook's strategies in order,
keeps the first patch the verifier proves safe, and moves on with the patched policy; a
finding no strategy can close goes to "needs a person" with the reasons. Pure: no AWS calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from remediator.detectors import analyze_key_policy
from remediator.detectors.grants import STANDING
from remediator.patches import OPERATIONS
from remediator.playbooks import Playbook, PlaybookSet
from remediator.proof import Proof
from remediator.types import Context, Finding
from remediator.verify import verify_change

Document = dict[str, Any]
Detect = Callable[[Mapping[str, Any]], list[Finding]]
EXPOSURE_RULES = frozenset({"KMS-PUBLIC", "KMS-CROSS-ACCOUNT", "KMS-SERVICE-UNSCOPED"})
MAX_ROUNDS = 3


@dataclass(frozen=True, slots=True)
class Step:
    """One accepted patch: which playbook and strategy closed which findings, with its proof."""

    playbook: str
    strategy: str
    findings: tuple[Finding, ...]
    auto_fix: bool
    proof: Proof


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A finding left to a person, with why (and the proposed patch when there is one)."""

    finding: Finding
    playbook: str | None
    reason: str
    proposal: Document | None = None


@dataclass(frozen=True, slots=True)
class KeyPlan:
    before: Document
    after: Document
    findings: tuple[Finding, ...]
    steps: tuple[Step, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()
    proof: Proof | None = None
    revoke_grants: tuple[Finding, ...] = ()  # KMS-GRANT-EXTERNAL findings to revoke
    policy_error: str | None = None  # set when the key policy could not be used: no change
    policy_problem: str = "could not be read"  # or "is not valid": what policy_error says

    @property
    def changed(self) -> bool:
        return bool(self.steps or self.revoke_grants)


@dataclass(slots=True)
class _Work:
    """The planner's state for one key while it walks the playbooks."""

    doc: Document
    steps: list[Step] = field(default_factory=list)
    unresolved: dict[tuple[str, frozenset[str]], Unresolved] = field(default_factory=dict)


def finding_key(f: Finding) -> tuple[str, frozenset[str]]:
    """Findings are compared by rule and principals: statement indexes shift under patches."""
    return (f.rule, frozenset(f.principals))


def _groups(
    findings: Sequence[Finding], book: Playbook
) -> dict[tuple[str, frozenset[str]], list[Finding]]:
    groups: dict[tuple[str, frozenset[str]], list[Finding]] = {}
    for f in findings:
        if f.rule in book.rules:
            groups.setdefault(finding_key(f), []).append(f)
    return groups


def _apply_strategy(
    doc: Document, findings: Sequence[Finding], ops: Sequence[Any], ctx: Context
) -> Document:
    """Apply a strategy's operations to each finding, last statement first so that a dropped
    statement does not shift the ones still to patch."""
    out = doc
    for f in sorted(
        findings, key=lambda f: -1 if f.statement is None else f.statement, reverse=True
    ):
        for spec in ops:
            patched = OPERATIONS[spec.op].fn(out, f, ctx, spec.params)
            if patched is not None:
                out = patched
    return out


def failure_summary(proof: Proof) -> str:
    return "; ".join(f"{c.name} failed ({c.detail})" for c in proof.checks if not c.passed)


def _try_playbook(
    doc: Document, group: Sequence[Finding], book: Playbook, ctx: Context
) -> tuple[Step | None, Document, str]:
    """The first strategy whose patch verifies, or None with every strategy's reason."""
    reasons = []
    for strategy in book.strategies:
        try:
            candidate = _apply_strategy(doc, group, strategy.operations, ctx)
        except ValueError as exc:
            # The patch operations raise a bare ValueError for a policy they cannot patch
            # (add_condition: every spelling of the condition key is already taken). That is
            # this strategy not applying, so only ValueError is caught, only around applying
            # the operations: the finding goes to a person and the other strategies are tried.
            reasons.append(f"{strategy.name}: does not apply to this policy ({exc})")
            continue
        if candidate == doc:
            reasons.append(f"{strategy.name}: does not apply to this policy")
            continue
        proof = verify_change(doc, candidate, ctx, group, book.removable())
        if proof.ok:
            return Step(book.id, strategy.name, tuple(group), False, proof), candidate, ""
        reasons.append(f"{strategy.name}: {failure_summary(proof)}")
    return None, doc, "; ".join(reasons)


def _run_playbook(
    work: _Work,
    book: Playbook,
    books: PlaybookSet,
    ctx: Context,
    include_manual: frozenset[str],
    detect: Detect,
) -> bool:
    """Patch every group of this playbook's findings that a strategy can close.

    The findings are detected again after each accepted patch: a patch may drop or add
    statements, so the statement indexes a group was found at may no longer address the
    document (a finding's own group is patched last statement first, so it stays right).
    Each group is tried once per pass. A step reports its group as first found in the pass
    (statement indexes of the document the pass began with) when no earlier patch changed
    its members. The loop ends: a proven patch adds no new finding, so no new group appears.
    """
    changed = False
    first = _groups(detect(work.doc), book)
    groups, tried = first, set()
    while True:
        key = next((k for k in groups if k not in tried and k not in work.unresolved), None)
        if key is None:
            return changed
        tried.add(key)
        group = groups[key]
        seen = first.get(key, group)
        reported = seen if len(seen) == len(group) else group
        if _settle_group(work, key, group, reported, book, books, ctx, include_manual):
            changed = True
            groups = _groups(detect(work.doc), book)


def _settle_group(
    work: _Work,
    key: tuple[str, frozenset[str]],
    group: Sequence[Finding],
    reported: Sequence[Finding],
    book: Playbook,
    books: PlaybookSet,
    ctx: Context,
    include_manual: frozenset[str],
) -> bool:
    """Patch one group (found in the current document) or leave it to a person; True when
    the patch was accepted and ``work.doc`` changed."""
    step, candidate, reason = _try_playbook(work.doc, group, book, ctx)
    allowed = books.allows_auto_fix(book) or book.id in include_manual
    if step is None:
        work.unresolved[key] = Unresolved(reported[0], book.id, reason)
        return False
    if not allowed:
        work.unresolved[key] = Unresolved(
            reported[0],
            book.id,
            f"playbook {book.id} is not allowed to auto-fix; plan again with "
            f"--include-manual {book.id} to include this proven patch",
            candidate,
        )
        return False
    work.doc = candidate
    work.steps.append(Step(book.id, step.strategy, tuple(reported), books.allows_auto_fix(book),
                           step.proof))
    return True


def plan_policy(
    policy: Mapping[str, Any],
    ctx: Context,
    books: PlaybookSet,
    include_manual: frozenset[str] = frozenset(),
    detect: Detect | None = None,
) -> KeyPlan:
    """The proven change for one key policy (``after`` equals ``before`` when none).

    ``detect`` gives the findings to act on (the config's rule settings applied); by default
    every key-policy rule.
    """
    detect = detect or (lambda doc: analyze_key_policy(doc, ctx))
    before = dict(policy)
    findings = tuple(detect(before))
    work = _Work(before)
    for _ in range(MAX_ROUNDS):
        # A patch that failed may pass once another has landed (most often: nothing passes
        # the lockout check until the owner root is back), so every round retries them all.
        work.unresolved = {}
        progress = False
        for book in books.playbooks:
            progress |= _run_playbook(work, book, books, ctx, include_manual, detect)
        if not progress:
            break
    remaining = detect(work.doc)
    _note_unhandled(work, remaining, books)
    proof = None
    if work.steps:
        # A finding left to a person can share its rule and principals with one a step closed
        # in another statement; the whole-change proof then targets only what is truly gone
        # (each step's own proof covers its findings).
        left = [u.finding for u in work.unresolved.values()]
        closed = [f for s in work.steps for f in s.findings
                  if not any(r.rule == f.rule and set(r.principals) <= set(f.principals)
                             for r in left)]
        removable = frozenset().union(
            *(books_by_id(books)[s.playbook].removable() for s in work.steps)
        )
        # Outsiders must be shut out only when the detectors see no exposure left, with every
        # rule on: a rule the configuration turns off still reports exposure that is there.
        must_close = not any(f.rule in EXPOSURE_RULES
                             for f in analyze_key_policy(work.doc, ctx))
        proof = verify_change(before, work.doc, ctx, closed, removable, must_close)
        if not proof.ok:
            return _unproven(before, findings, work, proof)
    return KeyPlan(
        before, work.doc, findings, tuple(work.steps), tuple(work.unresolved.values()), proof
    )


def _unproven(before: Document, findings: tuple[Finding, ...], work: _Work,
              proof: Proof) -> KeyPlan:
    """Each step passed its own proof but the change as a whole did not: nothing is changed,
    and every finding the steps closed goes to a person with the whole proposal and why (a
    patch whose proof fails is never proposed for apply)."""
    reason = (f"the patches pass one by one but not together: {failure_summary(proof)}; "
              "the key is not changed")
    left = [*work.unresolved.values(),
            *(Unresolved(f, s.playbook, reason, work.doc) for s in work.steps
              for f in s.findings)]
    return KeyPlan(before, before, findings, (), tuple(left), proof)


def grant_reason(f: Finding) -> str | None:
    """Why a grant finding must not be revoked automatically, or None when revoking it takes
    access from nobody inside the trust. Decided from the grant as the detector read it
    (``Finding.grant_parties``), never from the severity, which the config may rewrite."""
    parties = f.grant_parties
    if parties is None:
        return (f"what grant {f.grant_id} names is not known to the planner: check it by hand "
                "before revoking it")
    if parties.is_revocable:
        return None
    if parties.is_service_grant:
        return "an AWS service's grant for its own resource: reported, not revoked"
    return (
        f"the grantee {parties.grantee} is {STANDING[parties.grantee_party]}, so revoking "
        f"grant {f.grant_id} would take its access too; only the retiring principal "
        f"{parties.retiring} is outside: re-create the grant without that retiring principal "
        "(same grantee, operations, constraints and name), then revoke this one"
    )


def plan_grants(
    kp: KeyPlan,
    grant_findings: Sequence[Finding],
    books: PlaybookSet,
    include_manual: frozenset[str],
) -> KeyPlan:
    """Add the grants to revoke (or to leave to a person) to a key's plan. Only a grant whose
    grantee is outside the trust is revoked; grants AWS services made for their own resources,
    and grants whose grantee is inside the trust, are never revoked (``grant_reason``)."""
    revoke, people = [], list(kp.unresolved)
    for f in grant_findings:
        book = books.for_rule(f.rule)
        kept = grant_reason(f)
        if kept is not None:
            people.append(Unresolved(f, None, kept))
        elif book is None:
            people.append(Unresolved(f, None, f"no playbook handles {f.rule}"))
        elif books.allows_auto_fix(book) or book.id in include_manual:
            revoke.append(f)
        else:
            people.append(
                Unresolved(
                    f,
                    book.id,
                    f"playbook {book.id} is not allowed to "
                    f"auto-fix; plan again with --include-manual {book.id}",
                )
            )
    return replace(kp, revoke_grants=tuple(revoke), unresolved=tuple(people))


def plan_unread_key(
    policy_error: str, grant_findings: Sequence[Finding], problem: str = "could not be read"
) -> KeyPlan:
    """The plan for a key whose policy could not be read (or ``problem="is not valid"``: was
    read but does not parse): no change at all (apply could neither back the policy up nor
    check it is still the one planned against, and no patch can be proven on a policy that
    does not parse), and every grant finding left to a person, so that none is reported by
    scan and silently dropped by plan."""
    people = []
    for f in grant_findings:
        reason = grant_reason(f) or (
            f"the key policy {problem} ({policy_error}), so the key is not changed: "
            f"revoke grant {f.grant_id} by hand, or plan again once the policy can be read "
            "and is valid"
        )
        people.append(Unresolved(f, None, reason))
    return KeyPlan({}, {}, tuple(grant_findings), unresolved=tuple(people),
                   policy_error=policy_error, policy_problem=problem)


def books_by_id(books: PlaybookSet) -> dict[str, Playbook]:
    return {b.id: b for b in books.playbooks}


def _note_unhandled(work: _Work, remaining: Sequence[Finding], books: PlaybookSet) -> None:
    for f in remaining:
        key = finding_key(f)
        if key not in work.unresolved and books.for_rule(f.rule) is None:
            work.unresolved[key] = Unresolved(f, None, f"no playbook handles {f.rule}")
