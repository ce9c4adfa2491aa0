"""The sets the engine reads conditions into: a ``Constraint`` on one dimension of the caller
(its accounts, organisations, network paths or principals) and a ``Scope`` of all four.

Principal constraints hold ARNs, ARN patterns (a Deny's) or unique ids (``aws:userid``), not
plain values, so they meet by ``meet_principals``.
"""

from __future__ import annotations

from typing import NamedTuple

from remediator.policy.principals import globs_meet, has_wildcard


class Constraint(NamedTuple):
    """A set of allowed values: ``include`` (None = any value) minus ``exclude``.

    A NamedTuple rather than a dataclass: the engine builds millions of these a minute.
    """

    include: frozenset[str] | None = None
    exclude: frozenset[str] = frozenset()

    @property
    def is_any(self) -> bool:
        return self.include is None and not self.exclude

    @property
    def is_empty(self) -> bool:
        return self.include is not None and not (self.include - self.exclude)

    def values(self) -> frozenset[str]:
        assert self.include is not None
        return self.include - self.exclude

    def meet(self, other: Constraint) -> Constraint:
        """Values in both constraints."""
        if other.include is None and not other.exclude:
            return self
        if self.include is None and not self.exclude:
            return other
        if self.include is None:
            inc = other.include
        elif other.include is None:
            inc = self.include
        else:
            inc = self.include & other.include
        exc = self.exclude | other.exclude
        if inc is not None:
            return Constraint(inc - exc, frozenset())
        return Constraint(None, exc)

    def contains(self, value: str) -> bool:
        if value in self.exclude:
            return False
        return self.include is None or value in self.include


ANY = Constraint()


def only(values: frozenset[str] | set[str]) -> Constraint:
    return Constraint(frozenset(values))


def excluding(values: frozenset[str] | set[str]) -> Constraint:
    return Constraint(None, frozenset(values))


DIMENSIONS = ("accounts", "orgs", "networks", "principals")


class Scope(NamedTuple):
    """Who can satisfy a statement's conditions, dimension by dimension.

    ``free`` is set when some condition depends on something the caller chooses or that this
    engine cannot pin (for a Deny: the caller may avoid it).
    """

    accounts: Constraint = ANY
    orgs: Constraint = ANY
    networks: Constraint = ANY
    principals: Constraint = ANY
    free: bool = False

    @property
    def unconditional(self) -> bool:
        return (
            not self.free
            and self.accounts.is_any
            and self.orgs.is_any
            and self.networks.is_any
            and self.principals.is_any
        )


UNCONDITIONAL = Scope()


def _is_unique_id(value: str) -> bool:
    return not value.startswith("arn:")


def meet_principals(a: Constraint, b: Constraint, widen: bool = False) -> Constraint:
    """Principals in both constraints, where values are principal ARNs, ARN patterns or unique
    ids (aws:userid), not plain values: a unique id may be any principal's, so it keeps the
    other side's ARNs; and what a Deny spares (``exclude``, patterns) stays beside what it
    names, since a pattern cannot be subtracted from another.

    Two ARN patterns (or a pattern and an ARN) may share principals that no equal value shows.
    Kept apart, that is what a Deny's scope needs (it covers no more than it surely does);
    ``widen``, for an Allow, keeps instead each value that meets some value of the other side,
    which holds every principal in both (a grant is never taken for narrower than it is)."""
    if b.is_any:
        return a
    if a.is_any:
        return b
    exclude = a.exclude | b.exclude
    if a.include is None or b.include is None:
        return Constraint(a.include if b.include is None else b.include, exclude)
    a_ids = {v for v in a.include if _is_unique_id(v)}
    b_ids = {v for v in b.include if _is_unique_id(v)}
    a_arns, b_arns = a.include - a_ids, b.include - b_ids
    common: set[str] | frozenset[str]
    if widen and any(has_wildcard(v) for v in a_arns | b_arns):
        common = ({v for v in a_arns if any(globs_meet(v, w) for w in b_arns)}
                  | {w for w in b_arns if any(globs_meet(v, w) for v in a_arns)})
    else:
        common = a_arns & b_arns
    include = common | (a_arns if b_ids else set()) | (b_arns if a_ids else set())
    if a_ids and b_ids:
        include |= a_ids | b_ids
    return Constraint(frozenset(include), exclude)
