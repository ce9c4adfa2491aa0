"""A Resource naming particular keys, settled when the key the policy is attached to is known.

A key policy does not say which key it is attached to, so a Resource naming a particular key
ARN may or may not be this key: alone, the engine takes such an Allow to apply and such a Deny
not to, so doubt never hides access. A scan knows each key's ARN (``Context.key_arn``, and
``check-policy --key-arn``): every such statement is then exact. Resource ARNs match
case-sensitively with ``*`` and ``?``
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from remediator.assess import assess
from remediator.cli import main
from remediator.commands.planning import plan_snapshot
from remediator.config import parse_config
from remediator.detectors import analyze_key_policy
from remediator.policy.document import parse_policy
from remediator.policy.resources import MAYBE, NO, YES, resource_coverage, settle_resources
from remediator.snapshot import snapshot_from_dict
from remediator.types import Context

OWNER, OUTSIDER, ORG = "111122223333", "444455556666", "o-a1b2c3d4e5"
THIS = f"arn:aws:kms:eu-west-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER = f"arn:aws:kms:eu-west-1:{OWNER}:key/ffffffff-12ab-34cd-56ef-1234567890ab"
CTX = Context(OWNER, org_id=ORG)
ROOT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
        "Action": "kms:*", "Resource": "*"}
PUBLIC = {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt",
          "Resource": "*"}


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def perimeter(resource: Any) -> dict[str, Any]:
    """The data-perimeter Deny, on ``resource``."""
    return {"Sid": "Perimeter", "Effect": "Deny", "Principal": "*", "Action": "kms:*",
            "Resource": resource,
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}}}


def coverage(resource: Any = None, not_resource: Any = None, key: str | None = THIS) -> str:
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt"}
    if resource is not None:
        stmt["Resource"] = resource
    if not_resource is not None:
        stmt["NotResource"] = not_resource
    settled = settle_resources(parse_policy(policy(stmt)), key)
    return resource_coverage(settled.statements[0])


@pytest.mark.parametrize(("resource", "not_resource", "expected"), [
    (THIS, None, YES),
    (OTHER, None, NO),
    ([OTHER, THIS], None, YES),
    (f"arn:aws:kms:eu-west-1:{OWNER}:key/1234abcd-*", None, YES),
    (f"arn:aws:kms:eu-west-1:{OWNER}:key/ffff*", None, NO),
    (f"arn:aws:kms:eu-west-?:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab", None, YES),
    (THIS[:-36] + THIS[-36:].upper(), None, NO),  # case-sensitive
    (f"arn:aws:kms:us-east-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab", None, NO),
    (None, THIS, NO),
    (None, OTHER, YES),
    (None, [OTHER, f"arn:aws:kms:*:{OWNER}:key/1234*"], NO),
    # A policy variable depends on the request: undecided, unless another value settles it.
    (f"arn:aws:kms:eu-west-1:{OWNER}:key/${{aws:username}}", None, MAYBE),
    ([f"arn:aws:kms:eu-west-1:{OWNER}:key/${{aws:username}}", THIS], None, YES),
    ([f"arn:aws:kms:eu-west-1:{OWNER}:key/${{aws:username}}", OTHER], None, MAYBE),
    (None, f"arn:aws:kms:eu-west-1:{OWNER}:key/${{aws:username}}", MAYBE),
    # Its fixed parts already miss the key: whatever the variable holds, it names another key.
    (f"arn:aws:kms:us-east-1:{OWNER}:key/${{aws:username}}", None, NO),
    # ${*} is a literal "*" (reference_policies_variables.html, special characters): a key id
    # of "*" is no key's.
    (f"arn:aws:kms:eu-west-1:{OWNER}:key/${{*}}", None, NO),
    (None, f"arn:aws:kms:eu-west-1:{OWNER}:key/${{*}}", YES),
])
def test_a_resource_naming_particular_keys_is_settled_for_the_key(
        resource: Any, not_resource: Any, expected: str) -> None:
    assert coverage(resource, not_resource) == expected
    assert coverage(resource, not_resource, key=None) == MAYBE


CN_KEY = f"arn:aws-cn:kms:cn-north-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
AWS_KEYS = "arn:aws:kms:*:*:key/*"  # every key of the aws partition, none of aws-cn


def test_a_pattern_for_every_key_of_another_partition_does_not_cover_the_key() -> None:
    # Without the key, such a pattern is taken to cover it (the aws partition is assumed);
    # on a key of aws-cn it does not match, so it is settled whatever it read before.
    assert coverage(AWS_KEYS, key=None) == YES
    assert coverage(AWS_KEYS, key=CN_KEY) == NO
    assert coverage(None, AWS_KEYS, key=CN_KEY) == YES
    public_but = {**PUBLIC, "Resource": None, "NotResource": AWS_KEYS}
    del public_but["Resource"]
    assert exposure(policy(ROOT, public_but), CN_KEY) == {("KMS-PUBLIC", "Public")}
    assert exposure(policy(ROOT, PUBLIC, perimeter(AWS_KEYS)), CN_KEY) == {
        ("KMS-PUBLIC", "Public")}
    assert exposure(policy({**ROOT, "Resource": AWS_KEYS}), CN_KEY) == {("IAM-KMS-1", None)}
    # Beside a value only the request decides, the pattern that misses the key decides nothing:
    # the Deny may or may not apply, so it is not credited.
    either = [AWS_KEYS, "arn:aws-cn:kms:cn-north-1:" + OWNER + ":key/${aws:username}"]
    assert coverage(either, key=CN_KEY) == MAYBE
    assert exposure(policy(ROOT, PUBLIC, perimeter(either)), CN_KEY) == {
        ("KMS-PUBLIC", "Public")}


# "You can use wildcard characters (* and ?) within the individual segments of an ARN ... If
# the * wildcard is the last character of a resource ARN segment, it can expand to match
# beyond the colon boundaries" (reference_policies_elements_resource.html#
# reference_policies_elements_resource_wildcards): a * inside a segment stays inside it.
@pytest.mark.parametrize(("resource", "matches"), [
    ("arn:aws:kms:eu-*:key/*", True),  # segment-final: spans Region and account
    ("arn:aws:kms:*:key/1234abcd-*", True),
    ("arn:aws:kms:*", True),
    (f"arn:aws:kms:eu-*-1:{OWNER}:key/*", True),  # inside one segment, no colon to span
    ("arn:aws:kms:eu-*3:key/*", False),  # would need to span "eu-west-1:111122223333"
    ("arn:aws:kms:*3:key/*", False),  # as a glob, * would take "eu-west-1:11112222333"
    ("arn:aws:kms:eu-west-1?" + OWNER + ":key/*", False),  # ? is one character of a segment
    (f"arn:aws:kms:eu-west-1:{OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890a?", True),
])
def test_a_wildcard_spans_colons_only_at_the_end_of_a_segment(resource: str,
                                                              matches: bool) -> None:
    assert coverage(resource) == (YES if matches else NO)
    assert coverage(None, resource) == (NO if matches else YES)
    # The perimeter Deny is credited only when its Resource really names the key.
    found = exposure(policy(ROOT, PUBLIC, perimeter(resource)), THIS)
    assert found == (set() if matches else {("KMS-PUBLIC", "Public")})


def test_nothing_is_rebuilt_when_nothing_needs_settling() -> None:
    parsed = parse_policy(policy(ROOT, PUBLIC))
    assert settle_resources(parsed, THIS) is parsed
    assert settle_resources(parsed, None) is parsed


def exposure(doc: dict[str, Any], key: str | None) -> set[tuple[str, str | None]]:
    ctx = CTX if key is None else Context(OWNER, org_id=ORG, key_arn=key)
    return {(f.rule, f.sid) for f in analyze_key_policy(doc, ctx)
            if f.rule in ("KMS-PUBLIC", "KMS-CROSS-ACCOUNT", "IAM-KMS-1")}


def test_a_perimeter_deny_naming_this_key_closes_the_public_allow() -> None:
    doc = policy(ROOT, PUBLIC, perimeter(THIS))
    assert exposure(doc, THIS) == set()
    # The same Deny on another key leaves the Allow public; without the key, doubt never
    # hides access. Interleaved, so that no memo carries one key's verdict to another.
    for _ in range(2):
        assert exposure(doc, OTHER) == {("KMS-PUBLIC", "Public")}
        assert exposure(doc, None) == {("KMS-PUBLIC", "Public")}
        assert exposure(doc, THIS) == set()


def test_an_allow_on_another_key_of_the_owner_grants_nothing_on_this_one() -> None:
    partner = {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": OUTSIDER},
               "Action": "kms:Decrypt", "Resource": OTHER}
    doc = policy(ROOT, partner)
    assert exposure(doc, THIS) == set()
    assert exposure(doc, OTHER) == {("KMS-CROSS-ACCOUNT", "Partner")}
    assert exposure(doc, None) == {("KMS-CROSS-ACCOUNT", "Partner")}


def test_the_owner_root_on_another_key_only_is_a_lockout_risk() -> None:
    doc = policy({**ROOT, "Resource": OTHER})
    assert exposure(doc, THIS) == {("IAM-KMS-1", None)}
    assert exposure(doc, OTHER) == set()


CONFIG = f'accounts: [{{id: "{OWNER}"}}]\nregions: [eu-west-1]\ntrust: {{org_id: {ORG}}}\n'


def snapshot(doc: dict[str, Any]) -> dict[str, Any]:
    kid = THIS.rsplit("/", 1)[1]
    return {"version": 1, "taken_at": "2025-01-01T00:00:00Z", "iam_policies": [],
            "errors": [],
            "keys": [{"arn": THIS, "account": OWNER, "region": "eu-west-1", "key_id": kid,
                      "manager": "CUSTOMER", "state": "Enabled", "multi_region": False,
                      "policy": doc, "policy_error": None, "grants": [], "aliases": [],
                      "rotation_enabled": True, "tags": {}}]}


def test_scan_and_plan_judge_each_key_by_its_own_arn() -> None:
    config = parse_config(CONFIG)
    guarded = snapshot_from_dict(snapshot(policy(ROOT, PUBLIC, perimeter(THIS))))
    assert not [i for i in assess(guarded, config).findings if i.finding.rule == "KMS-PUBLIC"]
    assert plan_snapshot(guarded, config, "0" * 64)["changes"] == []
    unguarded = snapshot_from_dict(snapshot(policy(ROOT, PUBLIC, perimeter(OTHER))))
    assert [i.finding.sid for i in assess(unguarded, config).findings
            if i.finding.rule == "KMS-PUBLIC"] == ["Public"]
    change, = plan_snapshot(unguarded, config, "0" * 64)["changes"]
    assert change["proof"]["ok"] is True


def test_the_proof_reads_the_policy_on_its_key_too() -> None:
    # The outsider's Allow is on another key: only the public "*" is this key's exposure, and
    # the proof must not count the outsider's grant on the other key as access kept on this.
    partner = {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": OUTSIDER},
               "Action": "kms:Decrypt", "Resource": OTHER}
    plan = plan_snapshot(snapshot_from_dict(snapshot(policy(ROOT, PUBLIC, partner))),
                         parse_config(CONFIG), "0" * 64)
    change, = plan["changes"]
    assert [f["rule"] for f in change["findings"] if f["rule"].startswith("KMS-")] == [
        "KMS-PUBLIC"]
    assert change["proof"]["ok"] is True, change["proof"]
    assert change["after"]["policy"]["Statement"][2] == partner


def _check(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
           ) -> tuple[int, str, str]:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(policy(ROOT, PUBLIC, perimeter(THIS))))
    code = main(["check-policy", str(path), "--account", OWNER, "--org-id", ORG,
                 "--format", "json", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_check_policy_key_arn_settles_the_resource(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _check(tmp_path, capsys)
    assert code == 1 and "KMS-PUBLIC" in out
    code, out, _ = _check(tmp_path, capsys, "--key-arn", THIS)
    assert "KMS-PUBLIC" not in out and json.loads(out)["account"] == OWNER


@pytest.mark.parametrize(("arn", "problem"), [
    (f"arn:aws:kms:eu-west-1:{OWNER}:alias/app", "is not a KMS key ARN"),
    (f"arn:aws:kms:eu-west-1:{OWNER}:key/*", "is not a KMS key ARN"),
    (THIS + "\n", "is not a KMS key ARN"),
    (THIS.replace(OWNER, OUTSIDER), f"is a key of account {OUTSIDER}, not of the owner"),
])
def test_check_policy_refuses_a_bad_key_arn(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            arn: str, problem: str) -> None:
    code, out, err = _check(tmp_path, capsys, "--key-arn", arn)
    assert (code, out) == (2, "")
    assert problem in err and err.count("\n") == 1


# Found by review: an unclosed "${" was masked as a variable again and again (RecursionError,
# a traceback and exit 1 from check-policy). Without its "}" it is no variable: its own text.
def test_an_unclosed_variable_is_text() -> None:
    odd = "arn:aws:kms:*:*:key/${aws:username"
    allow = {**PUBLIC, "Resource": odd}
    assert resource_coverage(parse_policy(policy(allow)).statements[0]) == MAYBE
    assert any(f.rule == "KMS-PUBLIC" for f in analyze_key_policy(policy(ROOT, allow), CTX))
    # A Deny on every key but that one (no key id holds "${"): certain once the key is known.
    deny = {"Sid": "Odd", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt",
            "NotResource": odd}
    keyed = Context(OWNER, org_id=ORG, key_arn=THIS)
    assert not any(f.rule == "KMS-PUBLIC"
                   for f in analyze_key_policy(policy(ROOT, PUBLIC, deny), keyed))
