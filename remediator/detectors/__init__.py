"""Key-policy detectors: pure functions ``(PolicyAnalysis, Context) -> list[Finding]``.

The registry below is the one place that says which rule ids exist and who checks them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from remediator.detectors.analysis import PolicyAnalysis, analyse, moved_findings
from remediator.detectors.exposure import (
    detect_cross_account,
    detect_public,
    detect_unscoped_service,
)
from remediator.detectors.lockout import (
    RootVerdicts,
    detect_missing_root,
    missing_root_finding,
    names_a_variable,
    root_can_call,
    root_org,
    root_verdict,
)
from remediator.detectors.privileges import (
    DESTRUCTIVE_RULES,
    detect_destructive,
    detect_wildcard_action,
)
from remediator.detectors.rules import RULES, SEVERITY_ORDER
from remediator.detectors.separation import (
    detect_separation_of_duties,
    forget_pairs,
    holdings,
    separation_findings,
)
from remediator.detectors.via_service import detect_via_service
from remediator.policy.access import Access, compile_statement
from remediator.policy.deny import access_after_denies, has_via_service_deny
from remediator.policy.document import Statement, parse_policy
from remediator.policy.evaluate import VARIABLES_VERSION
from remediator.policy.resources import may_name_owner_key
from remediator.policy.settle import settle_for_context
from remediator.types import Context, Finding

KeyPolicyDetector = Callable[[PolicyAnalysis, Context], list[Finding]]
# A statement-level detector reads one Allow statement's access (after the Denies).
StatementDetector = Callable[[Statement, tuple[Access, ...], Context], list[Finding]]

# Detectors that look at one Allow statement at a time -> the rule ids they can report.
STATEMENT_DETECTORS: dict[StatementDetector, tuple[str, ...]] = {
    detect_public: ("KMS-PUBLIC",),
    detect_cross_account: ("KMS-CROSS-ACCOUNT",),
    detect_unscoped_service: ("KMS-SERVICE-UNSCOPED",),
    detect_wildcard_action: ("KMS-WILDCARD-ACTION",),
    detect_destructive: tuple(DESTRUCTIVE_RULES),
    detect_via_service: ("IAM-KMS-6",),
}
# Detectors that need the whole policy.
POLICY_DETECTORS: dict[KeyPolicyDetector, tuple[str, ...]] = {
    detect_missing_root: ("IAM-KMS-1",),
    detect_separation_of_duties: ("IAM-KMS-8",),
}


def sort_findings(findings: list[Finding]) -> list[Finding]:
    if len(findings) < 2:
        return findings
    return sorted(
        findings,
        key=lambda f: (
            SEVERITY_ORDER[f.severity],
            f.rule,
            -1 if f.statement is None else f.statement,
        ),
    )


def statement_findings(stmt: Statement, accs: tuple[Access, ...], ctx: Context,
                       denies: tuple[Statement, ...] = ()) -> list[Finding]:
    """What the statement-level detectors report on one statement's access (after
    ``denies``). A Deny on kms:ViaService may force use through services, which only
    IAM-KMS-6 asks about: it alone is given the Denies then."""
    found = [f for detector in STATEMENT_DETECTORS for f in detector(stmt, accs, ctx)]
    if denies and has_via_service_deny(denies):
        found = [f for f in found if f.rule != "IAM-KMS-6"]
        found.extend(detect_via_service(stmt, accs, ctx, denies))
    return found


_THIS_KEY = ("*",)


def _may_apply(stmt: Statement, ctx: Context) -> bool:
    """An Allow on keys of other accounts only grants nothing on this key."""
    resources = stmt.resources
    return (not resources or resources == _THIS_KEY
            or may_name_owner_key(stmt, ctx.owner_account))


def for_owner(analysis: PolicyAnalysis, ctx: Context) -> PolicyAnalysis:
    """The analysis without the Allows that can only name other accounts' keys."""
    groups = tuple([(s, a) for s, a in analysis.groups if _may_apply(s, ctx)])
    if len(groups) == len(analysis.groups):
        return analysis
    return analysis._replace(groups=groups,
                             accesses=tuple([a for _, accs in groups for a in accs]))


def reference_findings(analysis: PolicyAnalysis, ctx: Context) -> list[Finding]:
    """Every detector run as registered, nothing shared: the definition that
    ``run_key_policy_detectors`` computes faster (tests hold the two equal)."""
    analysis = for_owner(analysis, ctx)
    denies = tuple([s for s in analysis.policy.statements if compile_statement(s).is_deny])
    findings: list[Finding] = []
    for stmt, accs in analysis.groups:
        findings.extend(statement_findings(stmt, accs, ctx, denies))
    for detector in POLICY_DETECTORS:
        findings.extend(detector(analysis, ctx))
    return sort_findings(findings)


class _Summary(NamedTuple):
    """What one statement contributes under one context, computed once per (statement, context).

    ``findings`` and ``holdings`` hold only while no Deny changes the statement's access."""

    findings: tuple[Finding, ...]
    holdings: tuple[tuple[str, int, Access], ...]
    root: RootVerdicts  # lockout.root_verdict
    is_deny: bool = False  # a Deny that applies to the key


class _Memo(NamedTuple):
    summaries: dict[Statement, _Summary]
    missing_root: Finding
    # (statement, the policy's Denies) -> what the statement contributes after them
    denied: dict[tuple[Statement, tuple[Statement, ...]], _Summary]


# Statements are shared objects compared by identity (policy.document), so a per-context
# dict keyed by statement is an exact memo. Bounded: cleared wholesale when full.
_MEMOS: dict[Context, _Memo] = {}
_MEMO_LIMIT = 65_536


_LAST: list[tuple[Context, _Memo]] = []  # the context of the previous call: usually this one


def _memo_for(ctx: Context) -> _Memo:
    if _LAST and _LAST[0][0] is ctx and not _is_full(_LAST[0][1]):
        return _LAST[0][1]
    memo = _MEMOS.get(ctx)
    if memo is None or _is_full(memo):
        if len(_MEMOS) >= 1024:
            _MEMOS.clear()
        memo = _MEMOS[ctx] = _Memo({}, missing_root_finding(ctx), {})
    _LAST[:] = [(ctx, memo)]
    return memo


def clear_memos() -> None:
    """Forget every context's summaries (``remediator.memos.forget_all`` empties all memos)."""
    _MEMOS.clear()
    _LAST.clear()
    forget_pairs()


def _is_full(memo: _Memo) -> bool:
    return len(memo.summaries) + len(memo.denied) >= _MEMO_LIMIT


def _summarise(memo: _Memo, stmt: Statement, ctx: Context) -> _Summary:
    origin = stmt.origin
    if origin is None:
        compiled = compile_statement(stmt)
        accs = compiled.accesses if _may_apply(stmt, ctx) else ()
        summary = _Summary(
            tuple(statement_findings(stmt, accs, ctx)) if accs else (),
            holdings(accs, ctx),
            root_verdict(stmt, ctx.owner_account, root_org(ctx), ctx.partition),
            compiled.is_deny,
        )
    else:  # the same statement at another position or Sid: its origin's verdicts, re-pointed
        summary = _moved(memo.summaries.get(origin) or _summarise(memo, origin, ctx), origin,
                         stmt)
    memo.summaries[stmt] = summary
    return summary


def _moved(first: _Summary, origin: Statement, stmt: Statement) -> _Summary:
    """``origin``'s contribution, for the same statement at ``stmt``'s position."""
    if not first.findings and not first.holdings:
        return first  # nothing in it names a position
    return _Summary(
        moved_findings(first.findings, origin, stmt) if first.findings else (),
        tuple([(key, mask, Access(stmt, acc.grantee, mask))
               for key, mask, acc in first.holdings]),
        first.root,
        first.is_deny,
    )


def _after_denies(memo: _Memo, stmt: Statement, denies: tuple[Statement, ...],
                  ctx: Context) -> _Summary:
    """What ``stmt`` contributes once the policy's Denies have taken away what they cover.

    That depends on the statements' contents alone, so it is worked out once per content
    (each statement as first parsed, its ``origin``) and re-pointed to other positions; no
    finding names a Deny's position."""
    key = (stmt, denies)
    part = memo.denied.get(key)
    if part is not None:
        return part
    own = memo.summaries.get(stmt) or _summarise(memo, stmt, ctx)
    origin = stmt.origin or stmt
    content = (origin, tuple([d.origin or d for d in denies]))
    if content != key:  # a copy: its content's part, re-pointed (or its own when untouched)
        first = _after_denies(memo, origin, content[1], ctx)
        untouched = first is memo.summaries[origin]
        part = own if untouched else _moved(first, origin, stmt)
    else:
        compiled = compile_statement(stmt).accesses
        if not _may_apply(stmt, ctx):
            compiled = ()
        accs = access_after_denies(stmt, denies) if compiled else compiled
        untouched = accs is compiled and not (accs and has_via_service_deny(denies))
        part = own if untouched else _Summary(
            tuple(statement_findings(stmt, accs, ctx, denies)) if accs else (),
            holdings(accs, ctx), own.root, own.is_deny)
    memo.denied[key] = part
    return part


def _shares(memo: _Memo, statements: tuple[Statement, ...], ctx: Context) -> list[_Summary]:
    summaries = memo.summaries
    return [summaries.get(stmt) or _summarise(memo, stmt, ctx) for stmt in statements]


def _combine(memo: _Memo, parts: list[_Summary], roots: list[RootVerdicts], ctx: Context
             ) -> list[Finding]:
    """A policy's findings from what its Allows contribute (``parts``, in statement order) and
    its statements' root verdicts (``roots``)."""
    findings: list[Finding] = []
    held: list[tuple[str, int, Access]] = []
    for s in parts:
        if s.findings:
            findings.extend(s.findings)
        if s.holdings:
            held.extend(s.holdings)
    if not root_can_call(roots):
        findings.append(memo.missing_root)
    if held:
        findings.extend(separation_findings(held, ctx))
    return sort_findings(findings)


def run_key_policy_detectors(analysis: PolicyAnalysis, ctx: Context) -> list[Finding]:
    """``reference_findings``, with each statement's share computed once per context."""
    return _policy_findings(analysis.policy.statements, ctx,
                            analysis.policy.version == VARIABLES_VERSION)


def analyze_key_policy(document: Any, context: Context) -> list[Finding]:
    """Every key-policy finding for one policy document (raises PolicyError when invalid).
    With ``context.key_arn``, statements naming particular keys are first settled for that
    key; what is left is judged as for any key, with the memos every key shares."""
    policy = settle_for_context(parse_policy(document), context)
    return _policy_findings(policy.statements, context.without_key(),
                            policy.version == VARIABLES_VERSION)


def _policy_findings(statements: tuple[Statement, ...], ctx: Context,
                     variables: bool = True) -> list[Finding]:
    memo = _memo_for(ctx)
    shares = _shares(memo, statements, ctx)
    roots = _root_verdicts(statements, shares, ctx, variables)
    for s in shares:
        if s.is_deny:
            denies = tuple([stmt for stmt, s in zip(statements, shares, strict=True)
                            if s.is_deny])
            # Statements without access contribute nothing, so all of them in order read
            # as the analysis's groups do.
            parts = [_after_denies(memo, stmt, denies, ctx) for stmt in statements]
            return _combine(memo, parts, roots, ctx)
    return _combine(memo, shares, roots, ctx)


def _root_verdicts(statements: tuple[Statement, ...], shares: list[_Summary], ctx: Context,
                   variables: bool) -> list[RootVerdicts]:
    """Each statement's root verdict, shared per content as read under Version 2012-10-17;
    in a policy of another Version, a statement whose conditions hold a variable is judged
    again with the variable as its text (found by review)."""
    if variables:
        return [s.root for s in shares]
    return [root_verdict(stmt, ctx.owner_account, root_org(ctx), ctx.partition, False)
            if names_a_variable(stmt) else s.root
            for stmt, s in zip(statements, shares, strict=True)]


__all__ = [
    "RULES",
    "PolicyAnalysis",
    "analyse",
    "analyze_key_policy",
    "reference_findings",
    "run_key_policy_detectors",
    "sort_findings",
]
