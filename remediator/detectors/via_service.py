"""IAM-KMS-6: cryptographic use of the key by AWS principals should go through named services.

``kms:ViaService`` limits use of a key to requests made by the named AWS services
(https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
"""

from __future__ import annotations

from collections.abc import Iterable

from remediator.detectors.analysis import is_owner_root, named, statement_finding
from remediator.policy import actions as kms
from remediator.policy.access import AWS, Access
from remediator.policy.conditions import has_positive_via_service
from remediator.policy.deny import access_after_denies_via
from remediator.policy.document import Condition, Statement
from remediator.policy.principals import has_wildcard
from remediator.types import Context, Finding

# A service no policy names: what a Deny leaves to "any service".
_UNNAMED_SERVICE = "unnamed-service.us-east-1.amazonaws.com"


def _users(accs: Iterable[Access], ctx: Context) -> list[Access]:
    return [a for a in accs
            if a.grantee.kind == AWS and a.mask & kms.CRYPTO_MASK
            and not is_owner_root(a.grantee, ctx)]


def detect_via_service(stmt: Statement, accs: tuple[Access, ...], ctx: Context,
                       denies: tuple[Statement, ...] = ()) -> list[Finding]:
    """``denies``: the policy's Denies, when one of them has a kms:ViaService condition and so
    may force use through services (``_forced_through_services``)."""
    users = _users(accs, ctx)
    if not users:
        return []
    if denies and not any(c.key == "kms:viaservice" for c in stmt.conditions):
        return _forced_through_services(stmt, denies, ctx)
    mask = 0
    for a in users:
        mask |= a.mask & kms.CRYPTO_MASK
    labels = [a.grantee.label for a in users]
    if not has_positive_via_service(stmt.conditions):
        patterns = _service_patterns(stmt.conditions)
        if patterns:
            detail = (f"lets {named(users)} use the key through any service matching "
                      f"{', '.join(patterns)}; name the services that need it in "
                      "kms:ViaService.")
        else:
            detail = (f"lets {named(users)} use the key directly; limit use to the AWS "
                      "services that need it with kms:ViaService.")
    else:
        extra = _services_outside(stmt.conditions, ctx.via_services)
        if not extra:
            return []
        detail = (f"allows use through {', '.join(extra)}, which the configuration does not "
                  "list in via_services.")
    return [statement_finding("IAM-KMS-6", stmt, labels, kms.names(mask), detail)]


def _forced_through_services(stmt: Statement, denies: tuple[Statement, ...], ctx: Context
                             ) -> list[Finding]:
    """An Allow without kms:ViaService, under Denies that have one (a Deny of use "unless
    through s3", or of use without any service): who may still use the key directly, else
    through a service no policy names, else through each service the Denies name."""
    direct = _users(access_after_denies_via(stmt, denies, None), ctx)
    if direct:
        return [_finding(stmt, direct, "use the key directly; limit use to the AWS services "
                         "that need it with kms:ViaService.")]
    anywhere = _users(access_after_denies_via(stmt, denies, _UNNAMED_SERVICE), ctx)
    if anywhere:
        return [_finding(stmt, anywhere, "use the key through any service; name the services "
                         "that need it in kms:ViaService.")]
    named = sorted({v for d in denies for c in d.conditions if c.key == "kms:viaservice"
                    for v in c.values})
    allowed = {a.lower() for a in ctx.via_services}
    outside = [(v, u) for v in named if ctx.via_services and v.lower() not in allowed
               for u in [_users(access_after_denies_via(stmt, denies, v), ctx)] if u]
    if not outside:
        return []
    return [_finding(stmt, [a for _, u in outside for a in u],
                     f"use the key through {', '.join(v for v, _ in outside)}, which the "
                     "configuration does not list in via_services.")]


def _finding(stmt: Statement, users: list[Access], detail: str) -> Finding:
    mask = 0
    for a in users:
        mask |= a.mask & kms.CRYPTO_MASK
    return statement_finding("IAM-KMS-6", stmt, [a.grantee.label for a in users],
                             kms.names(mask), f"lets {named(users)} {detail}")


def _service_patterns(conditions: tuple[Condition, ...]) -> list[str]:
    """Wildcard values of a kms:ViaService condition that does require a service: use goes
    through some service, but not through named ones."""
    return sorted({
        v
        for c in conditions
        if c.key == "kms:viaservice" and c.operator.is_positive and not c.operator.if_exists
        and c.operator.qualifier != "ForAllValues" and c.operator.wildcards
        for v in c.values
        if has_wildcard(v)
    })


def _services_outside(conditions: tuple[Condition, ...], allowed: tuple[str, ...]) -> list[str]:
    if not allowed:
        return []
    lowered = {a.lower() for a in allowed}
    outside = set()
    for c in conditions:
        if c.key == "kms:viaservice" and c.operator.is_positive:
            for v in c.values:
                # IgnoreCase operators match any spelling of an allowed service.
                if not (v in allowed or (c.operator.ignore_case and v.lower() in lowered)):
                    outside.add(v)
    return sorted(outside)
