"""Patch operations that close exposure: public principals, untrusted accounts, services."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediator.errors import PolicyError
from remediator.patches.document import (
    Document,
    add_condition,
    as_list,
    field_name,
    next_sid,
    principal_account,
    replace_statement,
    shaped_like,
    statement_at,
    statements_of,
    trusted_caller_accounts,
    with_statements,
)
from remediator.policy.condition_keys import ACCOUNT_KEYS, ARN_KEYS, ORG_KEYS, ORG_PATH_KEYS
from remediator.policy.document import parse_policy
from remediator.policy.principals import account_of_arn_value, is_account_id
from remediator.policy.service_context import service_context_accounts
from remediator.types import Context, Finding


def remove_wildcard_principal(
    doc: Document, finding: Finding, ctx: Context, params: Mapping[str, Any]
) -> Document | None:
    """Drop ``"*"`` from a principal list that names other principals too.

    Applies only when the list keeps at least one principal; whether those principals keep
    what they had is for the verifier to prove.
    """
    index, stmt = statement_at(doc, finding)
    pname = field_name(stmt, "Principal")
    principal = stmt.get(pname) if pname else None
    if not isinstance(principal, Mapping):
        return None
    aname = field_name(principal, "AWS")
    if aname is None:
        return None
    values = as_list(principal[aname])
    kept = [v for v in values if v != "*"]
    if len(kept) == len(values) or (not kept and len(principal) == 1):
        return None
    new_principal = dict(principal)
    if kept:
        new_principal[aname] = shaped_like(principal[aname], kept)
    else:
        del new_principal[aname]
    new = dict(stmt)
    new[pname] = new_principal  # type: ignore[index]
    return replace_statement(doc, index, new)


def _split_off_other_principals(
    doc: Document, index: int, stmt: Mapping[str, Any]
) -> tuple[Document, Mapping[str, Any]]:
    """Move the statement's principals that are not AWS's (services) to a statement of their
    own, unchanged, and return the document with the AWS part in the statement's place.

    The caller's account and organisation keys (kms:CallerAccount, aws:PrincipalOrgID) are
    absent from a service principal's requests, so pinning a statement that names a service
    beside ``"*"`` would shut the service out: it was named on purpose and keeps what it had
    (scoping it is the unscoped-service playbook's work, as for any service statement).
    """
    pname = field_name(stmt, "Principal")
    principal = stmt.get(pname) if pname else None
    aname = field_name(principal, "AWS") if isinstance(principal, Mapping) else None
    if not isinstance(principal, Mapping) or aname is None or len(principal) == 1:
        return doc, stmt
    aws_part = dict(stmt)
    aws_part[pname] = {aname: principal[aname]}  # type: ignore[index]
    others = dict(stmt)
    others[pname] = {k: v for k, v in principal.items() if k != aname}  # type: ignore[index]
    out = replace_statement(doc, index, aws_part)
    others[field_name(others, "Sid") or "Sid"] = next_sid(out, "Services")
    return with_statements(out, [*statements_of(out), others]), aws_part


def restrict_to_trusted(
    doc: Document, finding: Finding, ctx: Context, params: Mapping[str, Any]
) -> Document | None:
    """Pin a public statement to the owner and trusted accounts (or the trusted organisation).

    ``accounts_only``: pin to the owner and trusted accounts only (for a statement already
    pinned to a foreign organisation, whose members cannot be in ours).
    With a trusted organisation the statement gets ``aws:PrincipalOrgID``; trusted accounts
    outside it keep their access through a copy pinned with ``kms:CallerAccount``, because
    conditions in one statement are ANDed and cannot say "this account or that organisation".
    Services the statement names beside its AWS principals are split off first, unpinned.
    """
    index, stmt = statement_at(doc, finding)
    doc, stmt = _split_off_other_principals(doc, index, stmt)
    accounts = trusted_caller_accounts(ctx)
    if not ctx.org_id or params.get("accounts_only"):
        new = add_condition(stmt, "StringEquals", "kms:CallerAccount", accounts)
        return replace_statement(doc, index, new)
    pinned = add_condition(stmt, "StringEquals", "aws:PrincipalOrgID", [ctx.org_id])
    out = replace_statement(doc, index, pinned)
    if ctx.trusted_accounts or not ctx.owner_in_org():  # accounts outside the organisation
        copy_ = add_condition(stmt, "StringEquals", "kms:CallerAccount", accounts)
        sid_key = field_name(copy_, "Sid") or "Sid"
        copy_[sid_key] = next_sid(out, "TrustedAccounts")
        out = with_statements(out, [*statements_of(out), copy_])
    return out


def _untrusted(value: str, ctx: Context) -> bool:
    acct = principal_account(value)
    return acct is not None and not ctx.is_trusted_account(acct)


def _strip_principals(stmt: Mapping[str, Any], ctx: Context) -> tuple[dict[str, Any], bool]:
    """The statement without principals of untrusted accounts, and whether anything went."""
    new = dict(stmt)
    pname = field_name(stmt, "Principal")
    principal = stmt.get(pname) if pname else None
    if not isinstance(principal, Mapping):
        return new, False
    changed, kept_types = False, {}
    for ptype, pvals in principal.items():
        vals = as_list(pvals)
        kept = [v for v in vals if not (isinstance(v, str) and _untrusted(v, ctx))]
        changed |= len(kept) != len(vals)
        if kept:
            kept_types[ptype] = shaped_like(pvals, kept)
    new[pname] = kept_types  # type: ignore[index]
    return new, changed


def _condition_value_untrusted(key: str, value: str, ctx: Context) -> bool:
    if key in ACCOUNT_KEYS:
        return is_account_id(value) and not ctx.is_trusted_account(value)
    if key in ARN_KEYS:
        acct = account_of_arn_value(value, True)
        return acct is not None and not ctx.is_trusted_account(acct)
    if key in ORG_KEYS or key in ORG_PATH_KEYS:
        return value.split("/", 1)[0] != ctx.org_id
    return False


def _strip_condition_values(stmt: Mapping[str, Any], ctx: Context) -> tuple[dict[str, Any], bool,
                                                                             bool]:
    """Remove untrusted accounts/orgs from positive identity conditions.

    Returns (statement, changed, emptied): ``emptied`` when a condition lost every value, so
    the statement can no longer let anyone in and should go.
    """
    new = dict(stmt)
    cname = field_name(stmt, "Condition")
    if not cname or not isinstance(stmt[cname], Mapping):
        return new, False, False
    changed = emptied = False
    cond: dict[str, Any] = {}
    for op, block in stmt[cname].items():
        positive = "Not" not in op and op != "Null"
        new_block = {}
        for key, vals in block.items():
            values = as_list(vals)
            kept = [v for v in values if not (positive and isinstance(v, str)
                                              and _condition_value_untrusted(key.lower(), v, ctx))]
            changed |= len(kept) != len(values)
            emptied |= not kept
            if kept:
                new_block[key] = shaped_like(vals, kept)
        cond[op] = new_block
    new[cname] = cond
    return new, changed, emptied


def remove_untrusted(
    doc: Document, finding: Finding, ctx: Context, params: Mapping[str, Any]
) -> Document | None:
    """Remove an untrusted account's principals or condition values; drop what is left empty."""
    index, stmt = statement_at(doc, finding)
    new, by_principal = _strip_principals(stmt, ctx)
    new, by_condition, emptied = _strip_condition_values(new, ctx)
    if not (by_principal or by_condition):
        return None
    pname = field_name(new, "Principal")
    no_principal = pname is not None and not new[pname]
    drop = emptied or no_principal
    return replace_statement(doc, index, None if drop else new)


def _with_services_scoped(stmt: Mapping[str, Any], ctx: Context) -> list[dict[str, Any]]:
    """The service statement pinned to the trust: the organisation by aws:SourceOrgID when one
    is trusted, and the owner and trusted accounts by aws:SourceAccount (in a copy, when both
    are needed, since conditions in one statement are ANDed)."""
    accounts = trusted_caller_accounts(ctx)
    if not ctx.org_id:
        return [add_condition(stmt, "StringEquals", "aws:SourceAccount", accounts)]
    out = [add_condition(stmt, "StringEquals", "aws:SourceOrgID", [ctx.org_id])]
    if ctx.trusted_accounts or not ctx.owner_in_org():  # accounts outside the organisation
        out.append(add_condition(stmt, "StringEquals", "aws:SourceAccount", accounts))
    return out


def scope_service(
    doc: Document, finding: Finding, ctx: Context, params: Mapping[str, Any]
) -> Document | None:
    """Scope the statement's service principals to the trust (confused deputy).

    A statement that also names AWS principals is split first: the services move to their
    own statement, because aws:SourceAccount is absent from a principal's direct calls and
    would shut those principals out.
    """
    index, stmt = statement_at(doc, finding)
    pname = field_name(stmt, "Principal")
    principal = stmt.get(pname) if pname else None
    if _is_star(principal) and "*" in finding.principals:
        # "*" whose IAM side matches nobody (aws:PrincipalIsAWSService "true", an IfExists
        # on a value no account has) stands for the services alone: pin the whole statement.
        # Were the IAM side still anybody's, the proof would see them shut out and refuse.
        return _replaced_by(doc, index, _with_services_scoped(stmt, ctx))
    sname = field_name(principal, "Service") if isinstance(principal, Mapping) else None
    if not isinstance(principal, Mapping) or sname is None:
        return None
    _refuse_cloudtrail_lake(principal[sname], stmt)
    _refuse_tied_by_context(stmt, ctx)
    services = dict(stmt)
    services[pname] = {sname: principal[sname]}  # type: ignore[index]
    scoped = _with_services_scoped(services, ctx)
    rest = {k: v for k, v in principal.items() if k != sname}
    if not rest:
        return _replaced_by(doc, index, scoped)
    kept = dict(stmt)
    kept[pname] = rest  # type: ignore[index]
    return _appended(replace_statement(doc, index, kept), scoped)


# "The aws:SourceArn and aws:SourceAccount condition keys are not supported in KMS key policies
# for event data stores" (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html):
# CloudTrail Lake calls KMS without them, so a CloudTrail statement that is not tied to trails
# by their encryption context may serve an event data store, which scoping would cut off.
_CLOUDTRAIL = "cloudtrail.amazonaws.com"
_TRAIL_CONTEXT = "kms:encryptioncontext:aws:cloudtrail:arn"


def _refuse_cloudtrail_lake(services: Any, stmt: Mapping[str, Any]) -> None:
    if _CLOUDTRAIL not in [v.strip().lower() for v in as_list(services) if isinstance(v, str)]:
        return
    cname = field_name(stmt, "Condition")
    blocks = stmt.get(cname) if cname else None
    keys = {str(k).lower() for b in (blocks or {}).values() if isinstance(b, Mapping) for k in b}
    if _TRAIL_CONTEXT not in keys:
        raise ValueError(
            "CloudTrail Lake event data stores call KMS without aws:SourceArn or "
            "aws:SourceAccount, and this CloudTrail statement is not tied to trails by "
            "kms:EncryptionContext:aws:cloudtrail:arn; scope it by hand to what uses it"
        )


def _refuse_tied_by_context(stmt: Mapping[str, Any], ctx: Context) -> None:
    """A service already tied to trusted accounts' resources by its own encryption context
    (``policy.service_context``) is left to a person: aws:SourceArn/aws:SourceAccount would be
    defence in depth, and a service that does not send the key in its calls to KMS would be
    shut out (AWS documents CloudWatch Logs' statement with the context alone:
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)."""
    try:
        parsed = parse_policy({"Version": "2012-10-17", "Statement": [dict(stmt)]})
    except PolicyError:
        return
    one = parsed.statements[0]
    services = one.principal.service if one.principal is not None else ()
    tied = service_context_accounts(one.conditions, services) if services else None
    if tied is not None and all(ctx.is_trusted_account(a) for a in tied):
        raise ValueError(
            f"the service is already tied to resources of {', '.join(sorted(tied))} by its own "
            "encryption context; add aws:SourceArn by hand where the service's guide shows "
            "it (a service that does not send it would be shut out)"
        )


def _is_star(principal: Any) -> bool:
    if isinstance(principal, Mapping):
        return list(principal) == ["AWS"] and as_list(principal["AWS"]) == ["*"]
    return isinstance(principal, str) and principal == "*"


def _replaced_by(doc: Document, index: int, statements: list[dict[str, Any]]) -> Document:
    """``doc`` with statement ``index`` replaced by the first of ``statements``, the others
    appended under fresh Sids."""
    return _appended(replace_statement(doc, index, statements[0]), statements[1:])


def _appended(doc: Document, statements: list[dict[str, Any]]) -> Document:
    for extra in statements:
        extra[field_name(extra, "Sid") or "Sid"] = next_sid(doc, "ScopedServices")
        doc = with_statements(doc, [*statements_of(doc), extra])
    return doc


