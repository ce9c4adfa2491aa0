"""The proof's first check, ``findings-closed``: the targeted findings are gone and the patch
adds none (a finding narrowed is the same exposure, not a new one)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from remediator.proof import FINDINGS_CLOSED, Check
from remediator.types import Finding

Key = tuple[str, frozenset[str]]


def finding_key(f: Finding) -> Key:
    """Findings are compared by rule and principals: statement indexes shift under patches."""
    return (f.rule, frozenset(f.principals))


_PIN_KINDS = frozenset({"account", "organisation", "network"})


def _pinned(principal: str) -> tuple[str, dict[str, frozenset[str]]]:
    """A principal as a finding names it, split into the principal as written and the values
    it is pinned to by kind: IAM-KMS-8 names a ``"*"`` by its pins (``"* in account A, B;
    organisation O"``, ``detectors.privileges``). A name without pins has none."""
    head, sep, tail = principal.partition(" in ")
    if not sep:
        return principal, {}
    pins: dict[str, frozenset[str]] = {}
    for part in tail.split("; "):
        kind, _, values = part.partition(" ")
        if kind not in _PIN_KINDS or not values or kind in pins:
            return principal, {}
        pins[kind] = frozenset(values.split(", "))
    return head, pins


def _is_narrower(principal: str, than: str) -> bool:
    """``principal`` is ``than`` or the same principal pinned at least as tightly: every pin
    ``than`` has, with a subset of its values (a pin ``than`` lacks only narrows further)."""
    if principal == than:
        return True
    head, pins = _pinned(principal)
    than_head, than_pins = _pinned(than)
    return head == than_head and pins != than_pins and all(
        kind in pins and pins[kind] <= values for kind, values in than_pins.items()
    )


def _narrows(f: Finding, g: Finding) -> bool:
    """``f`` is ``g``'s exposure, the same or narrowed: same rule, and each principal of ``f``
    is one of ``g``'s or narrower (statement indexes shift under patches, so they are not
    compared)."""
    return f.rule == g.rule and all(
        any(_is_narrower(p, q) for q in g.principals) for p in f.principals
    )


def _covered(f: Finding, pool: Iterable[Finding]) -> bool:
    """A finding that a finding of ``pool`` already reports, the same or wider."""
    return any(_narrows(f, g) for g in pool)


def _label(f: Finding) -> str:
    return f"{f.rule} for {', '.join(f.principals) or 'the key'}"


def check_findings(
    before: Sequence[Finding], after: Sequence[Finding], targeted: Sequence[Finding]
) -> Check:
    """Targeted findings are gone; every finding after was already reported before.

    "New" means a rule reported for a principal no finding of that rule named before, or for
    one it named but more widely (``"* in account A, B"`` where there was ``"* in account
    A"``). A finding after that names principals a finding of the same rule named before, or
    the same principals pinned more tightly, is the same exposure narrowed, not a new one:
    removing ``"*"`` from a list leaves the rest of a ``kms:*`` finding, and pinning a public
    ``kms:*`` to the organisation turns IAM-KMS-8 for ``*`` into IAM-KMS-8 for ``* in
    organisation O``. A narrowed targeted finding is still that finding, left open, unless an
    untargeted finding explains it, so a half-done patch is caught.
    """
    targets = {finding_key(t): t for t in targeted}
    untargeted = [f for f in before if finding_key(f) not in targets]
    for t in targets.values():
        left = next(
            (f for f in after if _narrows(f, t) and not _covered(f, untargeted)),
            None,
        )
        if left is not None:
            return Check(FINDINGS_CLOSED, False, f"{_label(left)} is still reported")
    new = next((f for f in after if not _covered(f, before)), None)
    if new is not None:
        return Check(FINDINGS_CLOSED, False, f"the patch adds a finding: {_label(new)}")
    return Check(
        FINDINGS_CLOSED, True, f"{len(targets)} targeted finding(s) closed and no new finding"
    )
