"""IAM-KMS-6: cryptographic use of the key by AWS principals should go through named services.

``kms:ViaService`` limits use of a key to requests made by the named AWS services
(https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service).
"""

from __future__ import annotations

from remediator.detectors.analysis import is_owner_root, named, statement_finding
from remediator.policy import actions as kms
from remediator.policy.access import AWS, Access
from remediator.policy.conditions import has_positive_via_service
from remediator.policy.document import Condition, Statement
from remediator.policy.principals import has_wildcard
from remediator.types import Context, Finding


def detect_via_service(stmt: Statement, accs: tuple[Access, ...], ctx: Context) -> list[Finding]:
    users = [
        a
        for a in accs
        if a.grantee.kind == AWS and a.mask & kms.CRYPTO_MASK and not is_owner_root(a.grantee, ctx)
    ]
    if not users:
        return []
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
