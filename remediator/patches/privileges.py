"""Patch operations on rights: the owner-root statement, destructive and admin actions,
kms:ViaService, and kms:* to non-administrators."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediator.patches.document import (
    Document,
    account_root,
    add_condition,
    as_list,
    field_name,
    next_sid,
    replace_statement,
    shaped_like,
    statement_at,
    statements_of,
    with_statements,
)
from remediator.policy import actions as kms
from remediator.policy.condition_keys import VIA_SERVICE_KEY
from remediator.policy.document import parse_policy
from remediator.policy.evaluate import statement_actions
from remediator.policy.matchers import condition_holds
from remediator.policy.principals import glob_match, is_account_id, parse_aws_principal
from remediator.types import Context, Finding

# The AWS console's "key users" rights: what a principal needs to use a key, and no more
# (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-users).
KEY_USER_ACTIONS = [
    "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey",
]


def add_root_statement(
    doc: Document, finding: Finding, ctx: Context, params: Mapping[str, Any]
) -> Document | None:
    """Add the default key policy's first statement: the owner root may do everything.

    https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html#key-policy-default-allow-root-enable-iam
    """
    root = account_root(ctx, doc)
    stmt = {
        "Sid": next_sid(doc, "EnableRootAccess"),
        "Effect": "Allow",
        "Principal": {"AWS": root},
        "Action": "kms:*",
        "Resource": "*",
    }
    return with_statements(doc, [*statements_of(doc), stmt])


# Beyond this many members, writing a pattern out for each would make the Deny long (and the
# policy near its 32 KB limit) and every proof slow: the members' administrators are then not
# spared, which the proof sees (it tries some), so such a fix goes to a person.
_MEMBERS_WRITTEN_OUT = 25


def authorised_arns(ctx: Context, doc: Mapping[str, Any]) -> list[str]:
    """The owner root and the administrator patterns, each pattern whose account part is a
    wildcard written out for the owner, the trusted accounts and the organisation's members
    the scan listed: a Deny sparing it as written would spare that role in anyone's account."""
    out = [account_root(ctx, doc)]
    members = ctx.org_accounts if len(ctx.org_accounts) <= _MEMBERS_WRITTEN_OUT else frozenset()
    others = (ctx.trusted_accounts | members) - {ctx.owner_account}
    accounts = [ctx.owner_account, *sorted(others)]
    for pattern in ctx.admins:
        parts = pattern.split(":", 5)
        if len(parts) == 6 and not is_account_id(parts[4]):
            out.extend(":".join([*parts[:4], a, parts[5]]) for a in accounts
                       if glob_match(parts[4], a))
        else:
            out.append(pattern)
    return list(dict.fromkeys(out))


DENY_SID = "KmsRemediatorDenyUnauthorisedActions"


def _deny_except_authorised(ctx: Context, doc: Mapping[str, Any]) -> Document:
    """The tool's Deny statement but its Sid and Action."""
    return {
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Resource": "*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": authorised_arns(ctx, doc)}},
    }


def _is_own_deny(stmt: Any, ctx: Context, doc: Mapping[str, Any]) -> bool:
    """A statement exactly as this operation writes it for this context: adding actions to it
    can only deny more to the principals it already denies. A Sid is no proof (a person or an
    earlier run with other administrators may have written it), so the rest must match too."""
    if not isinstance(stmt, Mapping) or set(stmt) != {"Sid", "Effect", "Principal", "Action",
                                                      "Resource", "Condition"}:
        return False
    sid, actions = stmt["Sid"], as_list(stmt["Action"])
    return (
        isinstance(sid, str)
        and sid.startswith(DENY_SID)
        and bool(actions)
        and all(isinstance(a, str) for a in actions)
        and {k: v for k, v in stmt.items() if k not in ("Sid", "Action")}
        == _deny_except_authorised(ctx, doc)
    )


def deny_actions_except_authorised(
    doc: Document, finding: Finding, ctx: Context, params: Mapping[str, Any]
) -> Document | None:
    """A narrow Deny of the finding's actions for every principal but the owner root and the
    configured administrators (``ArnNotLike aws:PrincipalArn``).

    Several findings make one readable Deny rather than one each: the actions are added to a
    Deny this operation wrote for the same administrators, and only to that. Any other
    statement, even one with the tool's Sid, is never rewritten (that could loosen it): a new
    Deny with a fresh Sid is added beside it.
    """
    wanted = [a for a in finding.actions if kms.bit(a)]
    if not wanted:
        return None
    stmts = statements_of(doc)
    index = next((i for i, s in enumerate(stmts) if _is_own_deny(s, ctx, doc)), None)
    have = [] if index is None else as_list(stmts[index]["Action"])
    actions = list(dict.fromkeys([*have, *wanted]))
    if len(actions) == len(have):
        return None
    sid = next_sid(doc, "DenyUnauthorisedActions") if index is None else stmts[index]["Sid"]
    shape = _deny_except_authorised(ctx, doc)
    stmt = {
        "Sid": sid,
        "Effect": shape["Effect"],
        "Principal": shape["Principal"],
        "Action": actions if len(actions) > 1 else actions[0],
        "Resource": shape["Resource"],
        "Condition": shape["Condition"],
    }
    if index is None:
        return with_statements(doc, [*stmts, stmt])
    return replace_statement(doc, index, stmt)


def _explicit_actions(stmt: Mapping[str, Any]) -> tuple[str | None, list[Any]]:
    aname = field_name(stmt, "Action")
    return aname, (as_list(stmt[aname]) if aname else [])


def remove_actions(
    doc: Document, finding: Finding, ctx: Context, params: Mapping[str, Any]
) -> Document | None:
    """Take the finding's actions out of its statement when they are listed by name.

    Applies only when every action to remove is spelt out (no wildcard covers it) and the
    statement names no authorised principal; otherwise the Deny operation is the minimal fix.
    The statement goes when no action is left. ValueError when the finding does not address
    a statement of ``doc`` (``statement_at``).
    """
    index, stmt = statement_at(doc, finding)
    aname, values = _explicit_actions(stmt)
    if aname is None or _names_authorised(stmt, ctx, doc):
        return None
    drop = {a.lower() for a in finding.actions}
    kept = [v for v in values if not (isinstance(v, str) and v.lower() in drop)]
    covered = [v for v in kept if isinstance(v, str) and
               any(kms.expand(v) & kms.bit(a) for a in finding.actions)]
    if len(kept) == len(values) or covered:
        return None
    if not kept:
        return replace_statement(doc, index, None)
    new = dict(stmt)
    new[aname] = kept if len(kept) > 1 or isinstance(stmt[aname], list) else kept[0]
    return replace_statement(doc, index, new)


def _is_authorised_value(value: Any, ctx: Context, doc: Mapping[str, Any]) -> bool:
    """Whether one ``Principal.AWS`` value may name the owner root or a configured
    administrator: the owner account, an ARN an administrator pattern matches, or a wildcard
    (which names everyone)."""
    v = str(value).strip()
    p = parse_aws_principal(v)
    return (p.is_wildcard or (p.is_root and p.account == ctx.owner_account)
            or (p.account is not None and ctx.is_trusted_account(p.account)
                and any(glob_match(a, v) for a in authorised_arns(ctx, doc))))


def _aws_values(stmt: Mapping[str, Any]) -> tuple[str, str, list[Any]] | None:
    """(Principal's name, AWS's name, its values) of a statement whose Principal names AWS
    principals only; None for ``"*"``, NotPrincipal or other principal types."""
    pname = field_name(stmt, "Principal")
    principal = stmt.get(pname) if pname else None
    if not isinstance(principal, Mapping) or len(principal) != 1:
        return None
    aname = field_name(principal, "AWS")
    return None if pname is None or aname is None else (pname, aname, as_list(principal[aname]))


def _names_authorised(stmt: Mapping[str, Any], ctx: Context, doc: Mapping[str, Any]) -> bool:
    """Whether the statement may reach the owner root or a configured administrator (matched
    as ``is_authorised`` matches them: administrators are ARN patterns)."""
    pname = field_name(stmt, "Principal")
    principal = stmt.get(pname) if pname else None
    if not isinstance(principal, Mapping):
        return principal == "*" or pname is None  # "*", or NotPrincipal (everyone else)
    aname = field_name(principal, "AWS")
    return aname is not None and any(
        _is_authorised_value(v, ctx, doc) for v in as_list(principal[aname]))


def _split_off_authorised(doc: Document, index: int, stmt: Mapping[str, Any], ctx: Context
                          ) -> tuple[Document, Mapping[str, Any]] | None:
    """Leave the administrators a statement names beside other principals where they were,
    unchanged, and move the others to a copy in the statement's place: (document, copy).
    None when it names administrators only, or when its Principal is not a plain AWS list."""
    found = _aws_values(stmt)
    if found is None:
        return None
    pname, aname, values = found
    admins = [v for v in values if _is_authorised_value(v, ctx, doc)]
    others = [v for v in values if not _is_authorised_value(v, ctx, doc)]
    if not others or any(parse_aws_principal(str(v)).is_wildcard for v in admins):
        return None
    kept = dict(stmt)
    kept[pname] = {aname: admins if len(admins) > 1 or isinstance(values, list) else admins[0]}
    rest = dict(stmt)
    rest[pname] = {aname: others if len(others) > 1 else others[0]}
    out = replace_statement(doc, index, rest)
    kept[field_name(kept, "Sid") or "Sid"] = next_sid(out, "KeyAdministrators")
    return with_statements(out, [*statements_of(out), kept]), rest


def add_via_service(
    doc: Document, finding: Finding, ctx: Context, params: Mapping[str, Any]
) -> Document | None:
    """Limit the statement to the configured services with ``kms:ViaService``.

    Applies only when services are configured and the statement grants nothing but
    cryptographic use (adding the condition to management rights would change those too).
    ValueError when the finding does not address a statement of ``doc`` (``statement_at``).
    """
    index, stmt = statement_at(doc, finding)
    if not ctx.via_services:
        return None
    _, values = _explicit_actions(stmt)
    mask = 0
    for v in values:
        mask |= kms.expand(str(v))
    if not values or mask & ~(kms.CRYPTO_MASK | kms.READ_MASK):
        return None
    blocked = _services_denied(doc, finding, ctx.via_services)
    services = [s for s in ctx.via_services if s not in blocked]
    if not services:
        # Limiting the Allow to them would leave it granting nothing (a dead statement the
        # reviewer would read as "limited to these services"): found by review.
        raise ValueError(
            f"a Deny takes {', '.join(finding.actions)} through every configured service "
            f"({', '.join(ctx.via_services)}) away: list the services the Deny allows under "
            "via_services, or change the Deny")
    aname = field_name(stmt, "Action") or "Action"
    reads = [v for v in values if not kms.expand(str(v)) & kms.CRYPTO_MASK]
    uses = [v for v in values if not kms.expand(str(v)) & ~kms.CRYPTO_MASK]
    if reads and uses and len(reads) + len(uses) == len(values):
        # Reading the key (DescribeKey, GetPublicKey) is not what the finding is about and no
        # service calls it for them: it stays as it was, in a copy of its own (found by review:
        # the console's key-user statement lists DescribeKey).
        limited = add_condition({**stmt, aname: shaped_like(stmt[aname], uses)},
                                "StringEquals", "kms:ViaService", services)
        kept = {**stmt, aname: shaped_like(stmt[aname], reads)}
        out = replace_statement(doc, index, limited)
        kept[field_name(kept, "Sid") or "Sid"] = next_sid(out, "ReadKey")
        return with_statements(out, [*statements_of(out), kept])
    new = add_condition(stmt, "StringEquals", "kms:ViaService", services)
    return replace_statement(doc, index, new)


def _services_denied(doc: Mapping[str, Any], finding: Finding,
                     services: tuple[str, ...]) -> set[str]:
    """The services through which a Deny certainly takes every action of ``finding``: one that
    names everyone, covers those actions on the key and has conditions on kms:ViaService only,
    all holding for a request made through the service."""
    wanted = 0
    for a in finding.actions:
        wanted |= kms.bit(a)
    denies = [d for d in parse_policy(doc).statements
              if not d.allow and d.principal is not None and d.principal.anyone
              and d.conditions and all(c.key == VIA_SERVICE_KEY for c in d.conditions)
              and statement_actions(d) & wanted == wanted]
    out = set()
    for service in services:
        facts = {VIA_SERVICE_KEY: (service,)}
        if any(all(condition_holds(c, facts, variables=False) for c in d.conditions)
               for d in denies):
            out.add(service)
    return out


def replace_wildcard_action(
    doc: Document, finding: Finding, ctx: Context, params: Mapping[str, Any]
) -> Document | None:
    """Replace ``kms:*``/``*`` by the key-user actions for the principals of a statement that
    are not administrators: administrators it names beside them keep the statement as it was,
    under a Sid of their own.

    ValueError when the finding does not address a statement of ``doc`` (``statement_at``).
    """
    index, stmt = statement_at(doc, finding)
    aname, values = _explicit_actions(stmt)
    kept = [v for v in values if str(v).lower() not in ("*", "kms:*")]
    if aname is None or len(kept) == len(values):
        return None
    if _names_authorised(stmt, ctx, doc):
        split = _split_off_authorised(doc, index, stmt, ctx)
        if split is None:
            return None
        doc, stmt = split
    new = dict(stmt)
    new[aname] = list(dict.fromkeys([*kept, *params.get("actions", KEY_USER_ACTIONS)]))
    return replace_statement(doc, index, new)


def separate_duties(
    doc: Document, finding: Finding, ctx: Context, params: Mapping[str, Any]
) -> Document | None:
    """Deny one principal the half of its rights it should not hold: cryptographic use for a
    configured administrator, key management for anyone else."""
    arn = finding.principals[0] if finding.principals else None
    if arn is None or parse_aws_principal(arn).account is None:
        return None
    is_admin = any(glob_match(p, arn) for p in authorised_arns(ctx, doc))
    held = 0
    for a in finding.actions:
        held |= kms.expand(a)
    take = held & (kms.CRYPTO_MASK if is_admin else kms.ADMIN_MASK)
    if not take:
        return None
    stmt = {
        "Sid": next_sid(doc, "SeparateDuties"),
        "Effect": "Deny",
        "Principal": {"AWS": arn},
        "Action": list(kms.full_names(take)),
        "Resource": "*",
    }
    return with_statements(doc, [*statements_of(doc), stmt])

