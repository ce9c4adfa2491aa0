"""The snapshot contract: version 1, required fields, keys kept with their errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from remediator.cli import main
from remediator.errors import BadInputError
from remediator.snapshot import (
    IamPolicySnapshot,
    KeySnapshot,
    Snapshot,
    canonical_json,
    dump_snapshot,
    load_snapshot,
    snapshot_from_dict,
)

CONFIG = Path(__file__).parent / "data" / "example-config.yaml"
ARN = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def sample() -> Snapshot:
    readable = KeySnapshot(
        arn=ARN,
        account="111111111111",
        region="eu-west-1",
        key_id="1234abcd-12ab-34cd-56ef-1234567890ab",
        manager="CUSTOMER",
        state="Enabled",
        multi_region=False,
        policy={"Version": "2012-10-17", "Statement": []},
        policy_error=None,
        grants=({"GrantId": "g", "GranteePrincipal": "x"},),
        aliases=("alias/a",),
        rotation_enabled=True,
        tags={"team": "sec"},
    )
    unreadable = KeySnapshot(
        arn=ARN.replace("1234abcd", "5678abcd"),
        account="111111111111",
        region="eu-west-1",
        key_id="5678abcd-12ab-34cd-56ef-1234567890ab",
        manager="CUSTOMER",
        state="Enabled",
        multi_region=None,
        policy=None,
        policy_error="GetKeyPolicy failed: AccessDenied",
    )
    policy = IamPolicySnapshot(
        arn="arn:aws:iam::111111111111:policy/p",
        account="111111111111",
        version_id="v2",
        document={"Version": "2012-10-17", "Statement": []},
    )
    return Snapshot(
        taken_at="2025-01-31T12:00:00Z",
        keys=(readable, unreadable),
        iam_policies=(policy,),
        errors=({"operation": "GetKeyPolicy"},),
    )


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    path = tmp_path / "snapshot.json"
    dump_snapshot(sample(), path)
    assert load_snapshot(path) == sample()
    text = path.read_text()
    assert text == canonical_json(json.loads(text)) + "\n"


def test_the_contract_fields_are_written() -> None:
    data = sample().to_dict()
    # The DESIGN.md fields, then "organization" (the trusted organisation's members, when the
    # scan could read them: null here), which readers of version 1 ignore as a newer field.
    assert list(data) == ["version", "taken_at", "keys", "iam_policies", "errors",
                          "organization"]
    assert data["version"] == 1 and data["organization"] is None
    assert {
        "arn",
        "account",
        "region",
        "key_id",
        "manager",
        "state",
        "multi_region",
        "policy",
        "policy_error",
        "grants",
        "aliases",
        "rotation_enabled",
        "tags",
    } <= set(data["keys"][0])
    assert set(data["iam_policies"][0]) >= {"arn", "account", "version_id", "document"}


def test_canonical_json_is_stable() -> None:
    assert (
        canonical_json({"b": 1, "a": [1, {"d": 2, "c": "é"}]}) == '{"a":[1,{"c":"é","d":2}],"b":1}'
    )


def _broken(change: Any) -> str:
    data = copy.deepcopy(sample().to_dict())
    change(data)
    with pytest.raises(BadInputError) as info:
        snapshot_from_dict(data, "snap.json")
    return str(info.value)


def test_wrong_version_is_refused() -> None:
    assert _broken(lambda d: d.update(version=2)) == "snap.json: version: expected 1, got 2."


def test_missing_field_is_named() -> None:
    message = _broken(lambda d: d["keys"][0].pop("policy_error"))
    assert message == "snap.json: keys[0].policy_error: is required."


def test_null_policy_needs_a_reason() -> None:
    message = _broken(lambda d: d["keys"][1].update(policy_error=None))
    assert message.startswith("snap.json: keys[1]: expected policy_error to say why")


def test_bad_timestamp_is_refused() -> None:
    assert _broken(lambda d: d.update(taken_at="yesterday")).startswith("snap.json: taken_at:")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match="cannot read the snapshot"):
        load_snapshot(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(BadInputError, match="not valid JSON at line 1"):
        load_snapshot(bad)
    bad.write_text("[]")
    with pytest.raises(BadInputError, match="expected a JSON object"):
        load_snapshot(bad)


def test_hostile_json_is_one_sentence(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"keys":' + "[" * 2000 + "]" * 2000 + "}")
    with pytest.raises(BadInputError, match=r"bad\.json is nested too deeply to be a snapshot"):
        load_snapshot(bad)
    bad.write_text('{"version": NaN}')
    with pytest.raises(BadInputError, match=r"bad\.json is not strict JSON: NaN is not a JSON"):
        load_snapshot(bad)


@pytest.mark.parametrize("command", ["scan", "plan"])
def test_a_snapshot_that_is_not_utf8_is_one_sentence(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"taken_at": "d\u00e9j\u00e0"}'.encode("latin-1"))
    assert main([command, "--snapshot", str(latin1), "--config", str(CONFIG)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"remediator: error: {latin1}: the snapshot is not UTF-8 text.\n"


GRANT = {"GrantId": "g1", "GranteePrincipal": "arn:aws:iam::444455556666:root",
         "Operations": ["Decrypt"]}


@pytest.mark.parametrize(("grant", "expected"), [
    ({**GRANT, "Operations": None},
     "grants[0].Operations: expected a list of strings, got None."),
    ({**GRANT, "Operations": "Decrypt"},
     "grants[0].Operations: expected a list of strings, got 'Decrypt'."),
    ({**GRANT, "Operations": [1, 2]},
     "grants[0].Operations: expected a list of strings, got [1, 2]."),
    ({**GRANT, "GranteePrincipal": 123},
     "grants[0].GranteePrincipal: expected a string, got 123."),
    ({**GRANT, "RetiringPrincipal": None},
     "grants[0].RetiringPrincipal: expected a string, got None."),
    ({k: v for k, v in GRANT.items() if k != "GrantId"},
     "grants[0].GrantId: expected a non-empty string, got None."),
    ({**GRANT, "GrantId": 5}, "grants[0].GrantId: expected a non-empty string, got 5."),
    ({**GRANT, "GrantId": ""}, "grants[0].GrantId: expected a non-empty string, got ''."),
])
def test_grant_fields_have_the_types_list_grants_returns(grant: dict[str, Any],
                                                        expected: str) -> None:
    message = _broken(lambda d: d["keys"][0].update(grants=[grant]))
    assert message == f"snap.json: keys[0] ({ARN}): {expected}"


def test_grants_may_leave_out_what_list_grants_may_leave_out() -> None:
    # No GrantListEntry member is required in the API; absent is not the wrong type.
    data = sample().to_dict()
    data["keys"][0]["grants"] = [{"GrantId": "g1"}, GRANT | {"GrantId": "g2"}]
    assert len(snapshot_from_dict(data).keys[0].grants) == 2


def test_a_grant_id_appears_once_per_key() -> None:
    message = _broken(lambda d: d["keys"][0].update(grants=[GRANT, {**GRANT, "Operations": []}]))
    assert message == (f"snap.json: keys[0] ({ARN}): grants[1].GrantId: 'g1' is already the id "
                       "of grants[0].")
    data = sample().to_dict()  # the same id on two keys is two grants
    data["keys"][0]["grants"] = data["keys"][1]["grants"] = [GRANT]
    snapshot_from_dict(data)


def test_a_key_appears_once() -> None:
    message = _broken(lambda d: d["keys"].append(copy.deepcopy(d["keys"][0])))
    assert message == f"snap.json: keys[2] ({ARN}): the same key ARN is already at keys[0]."


@pytest.mark.parametrize(("account", "expected"), [
    ("999999999999", "account '999999999999' is not the account in the key ARN ('111111111111')"),
    ("abc", "account: expected a 12-digit AWS account id, got 'abc'"),
    ("11111111111", "account: expected a 12-digit AWS account id, got '11111111111'"),
    ("\uff11" * 12, "account: expected a 12-digit AWS account id, got '" + "\uff11" * 12 + "'"),
])
def test_a_key_account_is_the_twelve_digits_of_its_arn(account: str, expected: str) -> None:
    message = _broken(lambda d: d["keys"][0].update(account=account))
    assert message == f"snap.json: keys[0] ({ARN}): {expected}."


def test_a_key_arn_is_a_kms_key_arn() -> None:
    alias = "arn:aws:kms:eu-west-1:111111111111:alias/a"
    message = _broken(lambda d: d["keys"][0].update(arn=alias))
    assert message.startswith(f"snap.json: keys[0] ({alias}): arn: expected a KMS key ARN")


def test_a_name_given_twice_in_one_object_is_refused(tmp_path: Path) -> None:
    # dump_snapshot writes dicts, so a snapshot the tool wrote never repeats a name; which of
    # two values counts is up to the reader, so the file is refused instead of guessed at.
    path = tmp_path / "snap.json"
    dump_snapshot(sample(), path)
    text = path.read_text()
    path.write_text(text.replace('"policy_error":null', '"policy_error":null,"policy":null', 1))
    with pytest.raises(BadInputError) as info:
        load_snapshot(path)
    assert str(info.value) == (f"{path}: the name 'policy' appears twice in one JSON object, "
                               "so which value counts is ambiguous.")


@pytest.mark.parametrize("command", ["scan", "plan"])
def test_a_bad_grant_is_one_sentence_and_writes_nothing(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample().to_dict()
    data["keys"][0]["grants"] = [{**GRANT, "Operations": None}]
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "plan.json"
    extra = ["--out", str(out)] if command == "plan" else ["--snapshot-out", str(out)]
    assert main([command, "--snapshot", str(path), "--config", str(CONFIG), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and not out.exists()
    assert captured.err == (f"remediator: error: {path}: keys[0] ({ARN}): grants[0].Operations: "
                            "expected a list of strings, got None.\n")
