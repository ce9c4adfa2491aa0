"""Which request contexts come from a network a policy names (``aws:SourceIp``,
``aws:SourceVpc``, ``aws:SourceVpce``), for the representative requests (``requests.py``):
the detectors, following Access Analyzer, take ``"*"`` on a fixed network path as not exposed.
"""

from __future__ import annotations

import ipaddress

from remediator.policy.condition_keys import NETWORK_KEYS, covers_every_address
from remediator.policy.document import Condition

Ctx = dict[str, tuple[str, ...]]
Conditions = dict[str, list[Condition]]  # the conditions the policies put on each key


def in_named_network(context: Ctx, named: Conditions) -> bool:
    """Whether a request comes from a VPC, endpoint or address range a policy names. Ranges
    that together hold every address (``0.0.0.0/0``) name no network; an ``IgnoreCase``
    operator names its values in any case."""
    for key in context.keys() & NETWORK_KEYS:
        for value in context[key]:
            for cond in named.get(key, ()):
                if cond.operator.negated or (
                        key == "aws:sourceip" and covers_every_address(cond.values)):
                    continue
                if value in cond.values or _in_cidrs(value, cond.values) or (
                        cond.operator.ignore_case
                        and value.casefold() in {v.casefold() for v in cond.values}):
                    return True
    return False


def _in_cidrs(value: str, cidrs: tuple[str, ...]) -> bool:
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return False
    for c in cidrs:
        try:
            net = ipaddress.ip_network(c.strip(), strict=False)
        except ValueError:
            continue
        if addr.version == net.version and addr in net:
            return True
    return False


def off_named_networks(ctxs: list[Ctx], named: Conditions) -> list[Ctx]:
    """The contexts without a network a policy names: a context that names one stands also
    for the same request from elsewhere (its network keys absent). A service never calls from
    a named network (see the module), so these are the contexts of service requests."""
    out: dict[tuple[tuple[str, tuple[str, ...]], ...], Ctx] = {}
    for c in ctxs:
        if in_named_network(c, named):
            c = {k: v for k, v in c.items() if k not in NETWORK_KEYS}
        out.setdefault(tuple(sorted(c.items())), c)
    return list(out.values())
