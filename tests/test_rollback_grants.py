"""Which revoked grants rollback re-creates (``rollback_grants.grants_to_recreate``), offline:
the key's listing is given, so each case can set what an earlier rollback left."""

from __future__ import annotations

from typing import Any

from remediator.rollback_grants import grants_to_recreate

G = {"GranteePrincipal": "arn:aws:iam::999999999999:root", "Operations": ["Decrypt"]}


def _ids(listed: list[dict[str, Any]], planned: list[dict[str, Any]],
         original: list[dict[str, Any]], recorded: dict[str, str] | None = None) -> list[str]:
    entry = {"revoke_planned": planned, "rollback": {"recreated_grants": recorded or {}}}
    return [g["GrantId"] for g in grants_to_recreate(listed, entry, original)]


def test_two_identical_revoked_grants_both_come_back_even_without_a_backup_list() -> None:
    """Found by review: with no grants in the backup, one of two identical grants came back."""
    planned = [{**G, "GrantId": "a1"}, {**G, "GrantId": "a2"}]
    assert _ids([], planned, []) == ["a1", "a2"]
    assert _ids([], planned, planned) == ["a1", "a2"]


def test_an_unrecorded_copy_counts_once_and_a_recorded_one_by_its_id() -> None:
    planned = [{**G, "GrantId": "a1"}, {**G, "GrantId": "a2"}]
    copy = {**G, "GrantId": "c1"}  # made by a rollback whose record could not be saved
    assert _ids([copy], planned, planned) == ["a2"]
    assert _ids([copy], planned, planned, {"a1": "c1"}) == ["a2"]
    # a grant the key already had when backed up is no copy, alike or not
    other = {**G, "GrantId": "k1"}
    assert _ids([other], planned, [*planned, other]) == ["a1", "a2"]
