"""Every shipped playbook loads and names real rules and operations; bad ones are refused with
their file name and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from remediator.detectors.rules import RULES
from remediator.patches import OPERATIONS
from remediator.playbooks import BUILTIN_FOLDER, PlaybookError, load_playbooks

GOOD = """id: my-book
title: A user playbook
rules: [KMS-PUBLIC]
auto_fix: false
risk: It restricts things.
backout: Roll back the run.
strategies:
  - name: pin
    operations: [{op: restrict-to-trusted}]
"""


def test_every_shipped_playbook_loads_and_covers_every_fixable_rule() -> None:
    books = load_playbooks()
    assert len(books.playbooks) == len(list(BUILTIN_FOLDER.glob("*.yaml")))
    covered = {r for b in books.playbooks for r in b.rules}
    # KMS.1 changes IAM policies, not keys: it is reported for a person.
    assert covered == set(RULES) - {"KMS.1"}
    for book in books.playbooks:
        assert book.backout and book.risk
        for strategy in book.strategies:
            for spec in strategy.operations:
                assert spec.op in OPERATIONS
                assert set(spec.params) <= OPERATIONS[spec.op].params


def test_never_auto_fixed_by_default() -> None:
    books = load_playbooks()
    by_id = {b.id: b for b in books.playbooks}
    for pid in ("missing-root", "wildcard-action", "separation-of-duties"):
        assert not books.allows_auto_fix(by_id[pid])


def test_every_operation_declares_permissions() -> None:
    for op in OPERATIONS.values():
        assert op.permissions and all(p.startswith("kms:") for p in op.permissions)
        assert op.summary


def test_user_folder_adds_a_playbook_and_config_overrides_auto_fix(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(GOOD)
    books = load_playbooks([tmp_path], {"my-book": True})
    mine = next(b for b in books.playbooks if b.id == "my-book")
    assert books.allows_auto_fix(mine)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("restrict-to-trusted", "delete-everything"), "unknown operation"),
        (GOOD.replace("KMS-PUBLIC", "KMS-NOPE"), "unknown rule ids"),
        (GOOD.replace("auto_fix: false\n", ""), "auto_fix"),
        (GOOD + "colour: blue\n", "colour"),
        ("id: [unclosed\n", "not valid YAML"),
        ("- a list\n", "must be a YAML mapping"),
    ],
    ids=["unknown-op", "unknown-rule", "missing-field", "unknown-field", "bad-yaml", "not-map"],
)
def test_bad_playbook_is_rejected_with_file_and_field(tmp_path: Path, text: str,
                                                      expected: str) -> None:
    (tmp_path / "bad.yaml").write_text(text)
    with pytest.raises(PlaybookError) as err:
        load_playbooks([tmp_path])
    assert "bad.yaml" in str(err.value) and expected in str(err.value)


def test_deeply_nested_playbook_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("id: " + "[" * 2000 + "]" * 2000)
    with pytest.raises(PlaybookError, match=r"deep\.yaml is nested too deeply to be a playbook$"):
        load_playbooks([tmp_path])


def test_a_playbook_that_is_not_utf8_is_one_sentence(tmp_path: Path) -> None:
    (tmp_path / "latin1.yaml").write_bytes(b"id: caf\xe9\n")
    with pytest.raises(PlaybookError, match=r"latin1\.yaml is not UTF-8 text$"):
        load_playbooks([tmp_path])


def test_auto_fix_override_for_unknown_playbook_is_refused() -> None:
    with pytest.raises(PlaybookError, match="unknown playbooks"):
        load_playbooks((), {"no-such-book": True})


def test_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlaybookError, match="does not exist"):
        load_playbooks([tmp_path / "nope"])
