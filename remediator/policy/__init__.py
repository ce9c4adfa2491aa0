"""Policy semantics with no I/O: parsing, principals, conditions, actions, effective access."""

from remediator.policy.access import Access, Grantee
from remediator.policy.deny import effective_access
from remediator.policy.document import Condition, Policy, Principals, Statement, parse_policy

__all__ = [
    "Access",
    "Condition",
    "Grantee",
    "Policy",
    "Principals",
    "Statement",
    "effective_access",
    "parse_policy",
]
