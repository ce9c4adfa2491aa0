"""Condition keys that tell service principals from IAM callers, and what a service
principal's request holds for them.

A service principal (``cloudtrail.amazonaws.com`` calling KMS itself) carries
``aws:PrincipalIsAWSService`` "true" and its own names, lacks the keys only an IAM caller or a
VPC has, and may hold values a policy cannot know for the rest
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html,
each key's Availability).
"""

from __future__ import annotations

from remediator.policy.document import Condition
from remediator.policy.matchers import condition_holds
from remediator.policy.principals import has_policy_variable

# Keys only a service principal's request carries: the calling service's name(s)
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalservicename,
# #condition-keys-principalservicenameslist). A positive match on one shuts out IAM callers.
SERVICE_NAME_KEYS = frozenset({"aws:principalservicename", "aws:principalservicenameslist"})
# Of the caller identity keys (``conditions.IDENTITY_KEYS``) and the network ones, the keys
# whose condition cannot match a service principal's request (global
# condition keys page, each key's Availability): the organisation keys, included "only if the
# principal is a member of an organization" (an IAM user, role, federated user or root);
# principal tags (of a tagged IAM user or role); aws:username (IAM users); aws:PrincipalArn,
# whose values are the ARNs of roles, users, federated users and root users; and the VPC keys,
# present "only if the requester uses a VPC endpoint". The others (aws:PrincipalAccount,
# aws:userid and aws:PrincipalType are "included in the request context for all requests", and
# no page says what kms:CallerAccount holds for a service principal) may be in its request with
# a value the policy cannot know, such as the account the service acts for.
ABSENT_FOR_SERVICES = frozenset(
    {"aws:principalorgid", "aws:principalorgpaths", "aws:principalarn", "aws:username",
     "aws:sourcevpc", "aws:sourcevpce"}
)


def absent_for_services(key: str) -> bool:
    return key in ABSENT_FOR_SERVICES or key.startswith("aws:principaltag/")


# Present in every signed request: "true" when a service principal calls, "false" otherwise
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalisawsservice).
# The data-perimeter Deny pairs it with an organisation guard so that services keep working.
IS_SERVICE_KEY = "aws:principalisawsservice"


_FLAG = {True: {IS_SERVICE_KEY: ("true",)}, False: {IS_SERVICE_KEY: ("false",)}}


def service_flag_holds(cond: Condition, for_services: bool) -> bool:
    """Whether a condition on aws:PrincipalIsAWSService certainly holds for service principals
    (``for_services``) or for every other caller: the key's value is certain for each, so the
    condition is evaluated on it, whatever its operator; a policy variable among its values
    (``${aws:PrincipalTag/x}``) is the caller's to set, so nothing is certain then."""
    return (not any(has_policy_variable(v) for v in cond.values)
            and condition_holds(cond, _FLAG[for_services], variables=False))


def service_flag_fails(cond: Condition, for_services: bool) -> bool:
    """Whether such a condition certainly fails for service principals or for the others."""
    return (not any(has_policy_variable(v) for v in cond.values)
            and not condition_holds(cond, _FLAG[for_services], variables=False))
