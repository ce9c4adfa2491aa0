"""The condition keys the engine reads by name, grouped by what their values say of a caller.

Names are lower case: condition keys are case-insensitive
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition.html),
and parsing lowers them. Each key's type and presence:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

ACCOUNT_KEYS = frozenset(
    {"aws:principalaccount", "kms:calleraccount", "aws:sourceaccount", "aws:sourceowner"}
)
ARN_KEYS = frozenset({"aws:principalarn", "aws:sourcearn"})
PRINCIPAL_ARN_KEY = "aws:principalarn"
ORG_KEYS = frozenset({"aws:principalorgid", "aws:sourceorgid"})
ORG_PATH_KEYS = frozenset({"aws:principalorgpaths", "aws:sourceorgpaths"})
# aws:VpcSourceIp is not here: it is a private address seen through some VPC endpoint, and any
# account can build a VPC with 10.0.0.0/8 and an endpoint to KMS; it names no account, VPC or
# endpoint (global condition keys page).
NETWORK_KEYS = frozenset({"aws:sourcevpc", "aws:sourcevpce", "aws:sourceip"})
USERID_KEY = "aws:userid"
VIA_SERVICE_KEY = "kms:viaservice"
# Keys that say who the caller is, in an IAM caller's request (a service principal's lacks
# some and holds unknown values for others: ``service_keys``).
IDENTITY_KEYS = frozenset(
    {"aws:principalaccount", "kms:calleraccount", "aws:principalarn", "aws:principalorgid",
     "aws:principalorgpaths", "aws:userid", "aws:username", "aws:principaltype",
     "aws:principaltag"}
)
# Present in every request an AWS principal makes; IfExists on them changes nothing.
ALWAYS_PRESENT = frozenset(
    {"aws:principalaccount", "kms:calleraccount", "aws:principalarn", "aws:userid"}
)
# Keys whose condition scopes a service principal to one customer (confused deputy):
# https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html
SERVICE_SCOPE_KEYS = frozenset(
    {"aws:sourceaccount", "aws:sourcearn", "aws:sourceowner", "aws:sourceorgid",
     "aws:sourceorgpaths"}
)


@lru_cache(maxsize=4096)
def covers_every_address(values: tuple[str, ...]) -> bool:
    """Whether a set of CIDRs together matches every IPv4 or every IPv6 address.

    ``0.0.0.0/0`` does, and so do ``0.0.0.0/1`` + ``128.0.0.0/1``: such a list pins nothing.
    """
    nets: dict[int, list[ipaddress.IPv4Network | ipaddress.IPv6Network]] = {4: [], 6: []}
    for v in values:
        try:
            net = ipaddress.ip_network(v.strip(), strict=False)
        except ValueError:
            continue
        nets[net.version].append(net)
    for group in nets.values():
        if any(n.prefixlen == 0 for n in ipaddress.collapse_addresses(group)):  # type: ignore[type-var]
            return True
    return False
