"""KMS.1: customer-managed IAM policies that allow kms:Decrypt or kms:ReEncryptFrom on all keys.

The control fails a policy "open enough to allow kms:Decrypt or kms:ReEncryptFrom actions on
any arbitrary KMS key" and does not evaluate conditions
(https://docs.aws.amazon.com/securityhub/latest/userguide/kms-controls.html#kms-1). A ``*`` in
Resource matches across the colons of an ARN
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
"""

from __future__ import annotations

from typing import Any

import pytest

from remediator.detectors.iam_policies import covers_every_key, detect_broad_decrypt

POLICY = "arn:aws:iam::111122223333:policy/p"
KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ALLOW_ALL = {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}


def flagged(*statements: dict[str, Any], arn: str = POLICY) -> bool:
    found = detect_broad_decrypt(arn, {"Version": "2012-10-17", "Statement": list(statements)})
    assert all(f.rule == "KMS.1" for f in found)
    return bool(found)


def decrypt(resource: str | list[str], element: str = "Resource",
            effect: str = "Allow") -> dict[str, Any]:
    return {"Effect": effect, "Action": "kms:Decrypt", element: resource}


EVERY_KEY = [
    "*",
    "arn:aws:kms:*",
    "arn:aws:kms:*:*",
    "arn:aws:*",
    "arn:*",
    "arn:aws:kms:*:*:*",
    "arn:aws:kms:*:*:key/*",
    "arn:*:kms:*:*:*",
    "arn:aws:*:*:*:*",
    "arn:aws:kms:*-*",  # every Region has a hyphen
    "arn:aws:kms:*:????????????:key/*",  # every account id has 12 digits
    "arn:aws:kms:*:*:key/*-*",  # UUIDs and multi-Region mrk- ids
]
SOME_KEYS = [
    "arn:aws:kms:*:111122223333:key/*",
    "arn:aws:kms:eu-west-1:*",
    "arn:aws:kms:us-*",
    "arn:aws:kms:*:1*",
    KEY,
    "arn:aws:kms:*:*:alias/*",
    "arn:aws:kms:eu-west-1:111122223333:alias/app",
    "arn:aws:kms:*:*:key/mrk-*",
    "arn:aws:kms:*:*:key/*a*",
    "arn:aws:s3:::*",
    "arn:aws:kms:*:${aws:PrincipalAccount}:key/*",  # resolved at request time: one account
    "arn:aws-cn:kms:*",  # another partition
]


@pytest.mark.parametrize("resource", EVERY_KEY)
def test_resources_that_match_every_key_arn(resource: str) -> None:
    assert covers_every_key(resource)
    assert flagged(decrypt(resource))


@pytest.mark.parametrize("resource", SOME_KEYS)
def test_resources_that_leave_some_keys_out(resource: str) -> None:
    assert not covers_every_key(resource)
    assert not flagged(decrypt(resource))


def test_a_policy_reaches_keys_of_its_own_partition() -> None:
    china = "arn:aws-cn:iam::111122223333:policy/p"
    assert flagged(decrypt("arn:aws-cn:kms:*"), arn=china)
    assert not flagged(decrypt("arn:aws:kms:*"), arn=china)
    assert covers_every_key("arn:aws-cn:kms:*", "aws-cn")


@pytest.mark.parametrize("not_resource", [
    "arn:aws:kms:*:*:alias/*",  # alias ARNs are never key ARNs
    "arn:aws:kms:eu-west-1:111122223333:alias/app",
    "arn:aws:kms:eu-west-1:111122223333:key/",  # no key has an empty id
    "arn:aws:s3:::bucket/*",
    "arn:aws-cn:kms:*",
])
def test_not_resource_that_excludes_no_key_allows_all(not_resource: str) -> None:
    assert flagged(decrypt(not_resource, "NotResource"))


@pytest.mark.parametrize("not_resource", [
    "*", "arn:aws:kms:*", "arn:aws:kms:*:*:key/*", ["arn:aws:kms:us-*", "arn:aws:kms:*:*:*"]])
def test_not_resource_that_excludes_every_key_allows_none(not_resource: str | list[str]) -> None:
    assert not flagged(decrypt(not_resource, "NotResource"))


@pytest.mark.parametrize("excluded", [
    KEY,
    "arn:aws:kms:*:111122223333:key/*",
    "arn:aws:kms:us-east-1:*",
    "arn:aws:kms:*:999999999999:key/*",
])
def test_all_keys_but_named_ones_is_all_keys_either_way(excluded: str) -> None:
    # The control fails a policy open to "any arbitrary KMS key": a key the author never
    # named is still reached when only named keys, accounts or Regions are carved out. Allow
    # with NotResource X and Allow * with a Deny on X are the same policy, and get one verdict.
    assert flagged(decrypt(excluded, "NotResource"))
    assert flagged(ALLOW_ALL, decrypt(excluded, effect="Deny"))


@pytest.mark.parametrize("denied", [
    "*", "arn:aws:kms:*", "arn:aws:*", "arn:aws:kms:*:*", "arn:aws:kms:*:*:key/*"])
def test_an_unconditional_deny_on_every_key_clears_it(denied: str) -> None:
    assert not flagged(ALLOW_ALL, decrypt(denied, effect="Deny"))


@pytest.mark.parametrize("kept", [
    KEY, "arn:aws:kms:*:111122223333:key/*", ["arn:aws:kms:eu-west-1:*", "arn:aws:kms:us-*"]])
def test_a_deny_on_all_keys_but_some_leaves_only_those(kept: str | list[str]) -> None:
    assert not flagged(ALLOW_ALL, decrypt(kept, "NotResource", effect="Deny"))


def test_a_deny_whose_not_resource_excludes_no_key_denies_every_key() -> None:
    assert not flagged(ALLOW_ALL, decrypt("arn:aws:kms:*:*:alias/*", "NotResource", "Deny"))


def test_conditions_are_not_evaluated() -> None:
    condition = {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}}
    assert flagged({**ALLOW_ALL, "Condition": condition})
    # A conditional Deny may not apply, so it takes nothing back.
    assert flagged(ALLOW_ALL, {**decrypt("*", effect="Deny"), "Condition": condition})


def test_statements_together_can_cover_every_key() -> None:
    assert flagged(decrypt("arn:aws:kms:*:111122223333:key/*"), decrypt("arn:aws:kms:*"))
    assert not flagged(decrypt("arn:aws:kms:us-*"), decrypt("arn:aws:kms:eu-*"))


def test_each_action_is_judged_on_its_own() -> None:
    both = {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:ReEncryptFrom"], "Resource": "*"}
    [finding] = detect_broad_decrypt(POLICY, {"Statement": [
        both, decrypt("arn:aws:kms:*", effect="Deny")]})
    assert finding.actions == ("kms:ReEncryptFrom",)


def test_the_finding_points_at_the_statement_that_opens_every_key() -> None:
    [finding] = detect_broad_decrypt(POLICY, {"Statement": [
        {"Sid": "One", **decrypt(KEY)}, {"Sid": "All", **decrypt("arn:aws:kms:*")}]})
    assert (finding.statement, finding.sid) == (1, "All")


# Found by review: a carve-out of a family of keys was judged on whichever probe keys it
# happened to hit, so the same shape got opposite verdicts.
@pytest.mark.parametrize("family", [
    "arn:aws:kms:*:1*", "arn:aws:kms:*:9*", "arn:aws:kms:*:*:key/1111*",
    "arn:aws:kms:*:*:key/mrk-*", "arn:aws:kms:eu-*", "arn:aws:kms:us-east-*",
    "arn:aws:kms:*:??????????7?:key/*",
    "arn:aws:kms:*:1*9*9*:key/*",  # several "*" in the account (found by review)
])
def test_a_carve_out_of_a_family_of_keys_leaves_out_keys_nobody_named(family: str) -> None:
    assert not flagged(decrypt(family, "NotResource"))
    assert not flagged(ALLOW_ALL, decrypt(family, effect="Deny"))


def test_allows_that_together_look_broad_are_judged_on_every_leading_digit() -> None:
    """Three account families are not every account (the probes once had three accounts)."""
    assert not flagged(decrypt(["arn:aws:kms:*:9*", "arn:aws:kms:*:3*", "arn:aws:kms:*:0*"]))
    assert flagged(decrypt([f"arn:aws:kms:*:{d}*" for d in "0123456789"]))


# A KMS request goes to the key's Region, and aws:ResourceAccount is the key's account
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html);
# variables are replaced only under Version 2012-10-17
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
@pytest.mark.parametrize("resource", [
    "arn:aws:kms:${aws:RequestedRegion}:*:key/*",
    "arn:aws:kms:*:${aws:ResourceAccount}:key/*",
    "arn:aws:kms:${aws:requestedregion}:${aws:ResourceAccount}:*",
])
def test_variables_the_key_decides_cover_every_key(resource: str) -> None:
    assert flagged(decrypt(resource))
    assert not flagged(ALLOW_ALL, decrypt(resource, effect="Deny"))
    old = {"Version": "2008-10-17", "Statement": [decrypt(resource)]}
    assert not detect_broad_decrypt(POLICY, old)  # the variable is its own text there
