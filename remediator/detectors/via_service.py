"""IAM-KMS-6: cryptographic use of the key by AWS principals should go through named services.

``kms:ViaService`` limits use of a key to requests made by the named AWS services
(https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
"""

from __future__ import annotations

from collections.abc import Iterable

from remediator.detectors.analysis import is_owner_root, named, statement_finding
from remediator.policy import actions as kms
from remediator.policy.access import AWS, Access, Grantee
from remediator.policy.condition_keys import VIA_SERVICE_KEY
from remediator.policy.conditions import has_positive_via_service
from remediator.policy.deny import access_after_denies_via
from remediator.policy.document import Condition, Statement
from remediator.policy.principals import has_policy_variable, has_wildcard
from remediator.types import Context, Finding

# A service no policy names, matching no pattern but "*": what a Deny leaves to "any service".
_UNNAMED_SERVICE = "unnamed-service.invalid"


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
    if denies and not any(c.key == VIA_SERVICE_KEY for c in stmt.conditions):
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
    through s3", or of use without any service). Each grantee is named once, for the first
    of: it may still use the key directly; through a service no policy names; through any
    service matching a pattern the Denies spare; through a service they name that the
    configuration does not list."""
    parts: list[tuple[list[Access], str]] = []
    seen: set[Grantee] = set()

    def ask(via: str | None, what: str) -> None:
        users = [a for a in _users(access_after_denies_via(stmt, denies, via), ctx)
                 if a.grantee not in seen]
        if users:
            parts.append((users, what))
            seen.update(a.grantee for a in users)

    ask(None, "use the key directly")
    ask(_UNNAMED_SERVICE, "use the key through any service")
    values = sorted({v for d in denies for c in d.conditions if c.key == VIA_SERVICE_KEY
                     for v in c.values if not has_policy_variable(v)})
    for v in values:
        if has_wildcard(v):
            ask(v.replace("*", "x").replace("?", "x"),
                f"use the key through any service matching {v}")
    advice = "; name the services that need it in kms:ViaService." if parts else "."
    allowed = {a.lower() for a in ctx.via_services}
    for v in values:
        if ctx.via_services and not has_wildcard(v) and v.lower() not in allowed:
            ask(v, f"use the key through {v}, which the configuration does not list in "
                "via_services")
    if not parts:
        return []
    users = [a for u, _ in parts for a in u]
    mask = 0
    for a in users:
        mask |= a.mask & kms.CRYPTO_MASK
    detail = "; ".join(f"lets {named(u)} {what}" for u, what in parts)
    return [statement_finding("IAM-KMS-6", stmt, [a.grantee.label for a in users],
                              kms.names(mask), detail + advice)]


def _service_patterns(conditions: tuple[Condition, ...]) -> list[str]:
    """Wildcard values of a kms:ViaService condition that does require a service: use goes
    through some service, but not through named ones."""
    return sorted({
        v
        for c in conditions
        if c.key == VIA_SERVICE_KEY and c.operator.is_positive and not c.operator.if_exists
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
        if c.key == VIA_SERVICE_KEY and c.operator.is_positive:
            for v in c.values:
                # IgnoreCase operators match any spelling of an allowed service.
                if not (v in allowed or (c.operator.ignore_case and v.lower() in lowered)):
                    outside.add(v)
    return sorted(outside)
