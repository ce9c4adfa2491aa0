"""The fast detector pipeline computes exactly what the registered detectors define.

``run_key_policy_detectors`` and ``analyze_key_policy`` share each statement's findings, root
verdict and holdings across policies and remember them per context; ``reference_findings`` runs
every detector as registered with nothing shared. Any difference is a bug in the sharing.
"""

from __future__ import annotations

import json
import marshal
import sys
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_differential import policies
from test_policy_cases import _IDS, CASES, Case

from remediator.detectors import (
    STATEMENT_DETECTORS,
    analyse,
    analyze_key_policy,
    reference_findings,
    run_key_policy_detectors,
    separation,
)
from remediator.memos import forget_all
from remediator.policy.document import content_of, content_without_sid, parse_policy
from remediator.types import Context

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from corpus import corpus, random_corpus, realistic_corpus

OWNER = "111122223333"
CONTEXTS = (
    Context(OWNER),
    Context(OWNER, frozenset({"444455556666"}), "o-a1b2c3d4e5"),
    Context(OWNER, frozenset({"222233334444"}), "o-a1b2c3d4e5",
            admins=("arn:aws:iam::111122223333:role/KeyAdmin",),
            via_services=("s3.eu-west-1.amazonaws.com",)),
    Context("444455556666", frozenset({OWNER})),
)


def assert_same(document: Any, ctx: Context) -> None:
    analysis = analyse(document)
    expected = reference_findings(analysis, ctx)
    assert run_key_policy_detectors(analysis, ctx) == expected
    assert analyze_key_policy(document, ctx) == expected


@pytest.mark.parametrize("c", CASES, ids=_IDS)
def test_every_table_case_under_every_context(c: Case) -> None:
    for ctx in (c.ctx, *CONTEXTS):
        assert_same(c.doc, ctx)


def test_generated_estates_twice_so_the_second_pass_reads_shared_results() -> None:
    docs = realistic_corpus(600) + corpus(600) + random_corpus(300)
    for _ in range(2):
        for i, d in enumerate(docs):
            assert_same(d, CONTEXTS[i % len(CONTEXTS)])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=policies(whole_pool=True), contexts=st.permutations(CONTEXTS))
def test_generated_policies_under_interleaved_contexts(document: Any,
                                                      contexts: list[Context]) -> None:
    # The same (shared) statements read under one context must not leak into another.
    for ctx in contexts:
        assert_same(document, ctx)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(position=st.integers(0, 2**31 - 1), statement=_JSON)
def test_a_statement_is_found_by_content_from_its_positioned_key(position: int,
                                                                 statement: Any) -> None:
    # The parse memo's key is marshal((position, statement)); a copy at another position is
    # found by the statement's own serialisation, cut from that key.
    key = marshal.dumps((position, statement), 2)
    assert content_of(key) == marshal.dumps(statement, 2)


@given(position=st.integers(0, 2**31 - 1), statement=st.dictionaries(st.text(max_size=4), _JSON,
                                                                    max_size=5),
       sid=_JSON)
def test_statements_equal_but_for_their_sid_share_one_content_key(
        position: int, statement: dict[str, Any], sid: Any) -> None:
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_sid.html:
    # a Sid is an optional identifier; it grants and denies nothing.
    without = {k: v for k, v in statement.items() if k != "Sid"}
    renamed = {**statement, "Sid": sid}
    sid_first = {"Sid": sid, **without}  # the usual order, whose Sid is cut from the key
    decoded = json.loads(json.dumps(sid_first))  # keys as a JSON document gives them
    if json.dumps(decoded) == json.dumps(sid_first):  # (text survives; floats may not)
        without_decoded = {k: v for k, v in decoded.items() if k != "Sid"}
        key = marshal.dumps((position, decoded), 2)
        assert content_without_sid(key, decoded) == marshal.dumps(without_decoded, 2)
    for stmt in (without, statement, renamed, sid_first):
        key = marshal.dumps((position, stmt), 2)
        assert content_without_sid(key, stmt) == marshal.dumps(without, 2)
    changed = {**without, "Effect": [without.get("Effect")]}
    assert content_without_sid(marshal.dumps((0, changed), 2), changed) != marshal.dumps(
        without, 2)


def _renamed(document: dict[str, Any], sids: list[Any]) -> dict[str, Any]:
    """The document with each statement's Sid replaced (None: removed)."""
    out = []
    for stmt, sid in zip(_statements(document), sids, strict=True):
        rest = {k: v for k, v in stmt.items() if k != "Sid"}
        out.append(rest if sid is None else {"Sid": sid, **rest})
    return {**document, "Statement": out}


def assert_renamed_reads_as_fresh(document: dict[str, Any], renamed: dict[str, Any],
                                  ctx: Context) -> None:
    """``renamed``, read after ``document`` (its statements shared across Sids), reports just
    what an engine that remembers nothing reports: its own Sids in every finding."""
    forget_all()
    fresh = analyze_key_policy(renamed, ctx)
    forget_all()
    analyze_key_policy(document, ctx)
    first = parse_policy(document).statements
    shared = analyze_key_policy(renamed, ctx)
    assert shared == fresh
    assert_same(renamed, ctx)
    for before, after in zip(first, parse_policy(renamed).statements, strict=True):
        assert (after.origin or after) is (before.origin or before)  # shared, not re-parsed
        assert after.sid == (None if "Sid" not in after.raw else str(after.raw["Sid"]))


@pytest.mark.parametrize("c", CASES, ids=_IDS)
def test_statements_under_other_sids_report_their_own_sid(c: Case) -> None:
    n = len(_statements(c.doc))
    for sids in ([f"Renamed{i}" for i in range(n)], [None] * n, [7] * n):
        for ctx in (c.ctx, CONTEXTS[2]):
            assert_renamed_reads_as_fresh(c.doc, _renamed(c.doc, sids), ctx)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=policies(whole_pool=True), data=st.data())
def test_generated_statements_under_other_sids_report_their_own_sid(
        document: Any, data: st.DataObject) -> None:
    n = len(document["Statement"])
    sid = st.none() | st.sampled_from(["A", "B", "Stmt1554837294000"]) | st.integers(0, 3)
    sids = data.draw(st.lists(sid, min_size=n, max_size=n))
    original = _renamed(document, data.draw(st.lists(sid, min_size=n, max_size=n)))
    assert_renamed_reads_as_fresh(original, _renamed(document, sids), CONTEXTS[2])


def _read_only(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _read_only(v) for k, v in value.items()})
    if isinstance(value, list):
        return [_read_only(v) for v in value]
    return value


@pytest.mark.parametrize("c", CASES[::7], ids=_IDS[::7])
def test_statements_that_cannot_be_keyed_by_content_are_parsed_not_shared(c: Case) -> None:
    # A read-only mapping has no marshal form: each reading parses it afresh, with the same
    # verdicts as the plain document.
    frozen = {"Version": "2012-10-17", "Statement": _read_only(c.doc["Statement"])}
    first, second = analyse(frozen), analyse(frozen)
    assert not set(first.policy.statements) & set(second.policy.statements)
    for ctx in (c.ctx, CONTEXTS[2]):
        assert analyze_key_policy(frozen, ctx) == analyze_key_policy(c.doc, ctx)
        assert_same(frozen, ctx)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=policies(whole_pool=True), data=st.data())
def test_statements_moved_to_other_positions_report_their_own_position(
        document: Any, data: st.DataObject) -> None:
    # The first analysis parses each statement; the shuffled copy re-uses them at new
    # positions (policy.document's origin), and must read exactly like a fresh analysis.
    assert_same(document, CONTEXTS[2])
    moved = {**document, "Statement": data.draw(st.permutations(document["Statement"]))}
    assert_same(moved, CONTEXTS[2])
    statement_rules = {r for rules in STATEMENT_DETECTORS.values() for r in rules}
    for f in run_key_policy_detectors(analyse(moved), CONTEXTS[2]):
        if f.rule in statement_rules:
            assert f.message.startswith(f"Statement {f.statement}")


def _statements(doc: dict[str, Any]) -> list[Any]:
    st = doc["Statement"]
    return st if isinstance(st, list) else [st]


def _deny(sid: str, action: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    stmt = {"Sid": sid, "Effect": "Deny", "Principal": "*", "Action": action, "Resource": "*"}
    return {**stmt, "Condition": condition} if condition else stmt


# Each Deny takes away something different from the public Allow.
_TWO_DENIES = Case("two-denies-each-taking-a-part", {"Version": "2012-10-17", "Statement": [
    {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"},
    _deny("NoDecryptOutsideOrg", "kms:Decrypt",
          {"StringNotEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}),
    _deny("NoDeletion", "kms:ScheduleKeyDeletion"),
]})
_WITH_DENIES = [_TWO_DENIES] + [c for c in CASES if any(
    isinstance(s, dict) and s.get("Effect") == "Deny" for s in _statements(c.doc))]


@pytest.mark.parametrize("c", _WITH_DENIES, ids=[c.id for c in _WITH_DENIES])
def test_what_the_denies_leave_is_shared_by_content_and_read_at_each_position(c: Case) -> None:
    # What the Denies leave of an Allow is shared between copies of the same statements at
    # other positions: reversed, each Deny dropped in turn, each Deny doubled.
    statements = _statements(c.doc)
    denies = [i for i, s in enumerate(statements) if s.get("Effect") == "Deny"]
    variants = [statements, statements[::-1]]
    variants += [[s for j, s in enumerate(statements) if j != i] for i in denies]
    variants += [[statements[i], *statements] for i in denies]
    for variant in variants * 2:
        for ctx in (c.ctx, CONTEXTS[2]):
            assert_same({"Version": "2012-10-17", "Statement": variant}, ctx)


def test_forget_all_empties_every_memo_of_the_engine() -> None:
    import remediator.detectors as detectors
    import remediator.policy.document as document

    for d in realistic_corpus(50) + corpus(50):
        analyze_key_policy(d, CONTEXTS[2])
    caches = [v for name, m in list(sys.modules.items()) if name.startswith("remediator")
              for v in vars(m).values() if callable(getattr(v, "cache_info", None))]
    assert sum(c.cache_info().currsize for c in caches) > 0
    forget_all()
    assert [c for c in caches if c.cache_info().currsize] == []
    assert not any(document._MEMO) and not document._ORIGINS
    assert not detectors._MEMOS and not detectors._LAST
    assert not separation._PAIRS


class _Forgetful(dict):  # type: ignore[type-arg]
    def __setitem__(self, key: Any, value: Any) -> None:
        pass


def test_the_memo_of_grantee_pairs_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """IAM-KMS-8's pairs are remembered by the grantees' identities: two passes over estates
    that share statements (the second reading every pair from the memo) report what a memo
    that never remembers reports."""
    docs = realistic_corpus(400, seed=9) + corpus(400, seed=4)
    forget_all()
    monkeypatch.setattr(separation, "_PAIRS", _Forgetful())
    without = [analyze_key_policy(d, CONTEXTS[i % 3]) for i, d in enumerate(docs)]
    monkeypatch.undo()
    forget_all()
    for _ in range(2):
        assert [analyze_key_policy(d, CONTEXTS[i % 3]) for i, d in enumerate(docs)] == without
    assert separation._PAIRS


def test_memos_cleared_when_full_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tiny limits make every memo fill and be cleared many times, mid-policy included.
    import remediator.detectors as detectors
    import remediator.policy.document as document

    monkeypatch.setattr(document, "_MEMO_LIMIT", 7)
    monkeypatch.setattr(detectors, "_MEMO_LIMIT", 11)
    monkeypatch.setattr(separation, "_PAIRS_LIMIT", 3)
    docs = realistic_corpus(300, seed=3) + corpus(300, seed=5)
    for i, d in enumerate(docs):
        assert_same(d, CONTEXTS[i % 2])
    assert max(len(m) for m in document._MEMO) <= 7
    # Fullness is checked once per policy; one policy adds at most a summary for each statement
    # and its origin, and an after-the-Denies part for each statement and its origin.
    one_policy = 4 * max(len(d["Statement"]) for d in docs)
    for ctx in CONTEXTS[:2]:
        memo = detectors._MEMOS[ctx]
        assert len(memo.summaries) + len(memo.denied) < 11 + one_policy
