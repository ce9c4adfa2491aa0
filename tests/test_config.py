"""config.yaml: the schema, and errors that name the file, the field and what was expected."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import get_args

import pytest

from remediator.cli import main
from remediator.config import Severity, load_config, parse_config
from remediator.errors import BadInputError
from remediator.types import SEVERITIES, Context

ROOT = Path(__file__).resolve().parent.parent
MINIMAL = "regions: [eu-west-1]\naccounts: [{id: '111111111111'}]\n"


def _error(text: str) -> str:
    with pytest.raises(BadInputError) as info:
        parse_config(text)
    return str(info.value)


def test_the_example_config_is_valid() -> None:
    config = load_config(ROOT / "config.yaml")
    assert config.regions == ("eu-west-1", "us-east-1")
    assert config.endpoint_url is None  # the local endpoint is only a commented example
    assert config.limits.share == 0.5
    assert config.rules.suppressions[0].expires == date(2027, 6, 30)


def test_defaults() -> None:
    config = parse_config(MINIMAL)
    assert config.accounts[0].role_name is None
    assert config.organization is None
    assert config.backup is None
    assert (config.limits.share, config.limits.quotas) == (0.5, {})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            MINIMAL + "trust: {trusted_acounts: []}",
            "config.yaml: trust.trusted_acounts: is not a known field; expected one of: "
            "trusted_accounts, org_id.",
        ),
        (
            MINIMAL + "regionz: [x]",
            "config.yaml: regionz: is not a known field; expected one of: accounts, organization,",
        ),
        (
            "regions: [eu-west-1]\naccounts: [{id: '1234'}]",
            "config.yaml: accounts[0].id: expected a 12-digit AWS account id in quotes, "
            "got '1234'.",
        ),
        (
            MINIMAL + "sandbox_accounts: ['12345678901a']",
            "config.yaml: sandbox_accounts[0]: expected a 12-digit AWS account id",
        ),
        (
            MINIMAL + "rules: {suppressions: [{rule: KMS-PUBLIC, account: '1111*', reason: why, "
            "expires: 2026-13-01}]}",
            "config.yaml: rules.suppressions[0].expires: expected a valid date as YYYY-MM-DD, "
            "got '2026-13-01'.",
        ),
        (
            MINIMAL + "rules: {suppressions: [{rule: KMS-PUBLIC, account: '1111*', reason: why, "
            "expires: soon}]}",
            "config.yaml: rules.suppressions[0].expires: expected a valid date as YYYY-MM-DD",
        ),
        (
            MINIMAL
            + "rules: {suppressions: [{rule: KMS-PUBLIC, reason: why, expires: 2026-01-01}]}",
            "config.yaml: rules.suppressions[0]: expected key_arn or account",
        ),
        (
            MINIMAL + "rules: {severity: {KMS-PUBLIC: urgent}}",
            "config.yaml: rules.severity.KMS-PUBLIC: expected 'critical', 'high', 'medium', 'low' "
            "or 'info', got 'urgent'.",
        ),
        (MINIMAL + "limits: {share: 2}", "config.yaml: limits.share: expected less than or equal"),
        (
            MINIMAL + "limits: {quotas: {ListGrant: 200}}",
            "config.yaml: limits.quotas.ListGrant: expected a KMS API with a request quota",
        ),
        (
            MINIMAL + "backup: {bucket: Bad_Bucket}",
            "config.yaml: backup.bucket: expected an S3 bucket name, got 'Bad_Bucket'.",
        ),
        (
            MINIMAL + "organization: {role_nam: x}",
            "config.yaml: organization.role_nam: is not a known field; expected one of: role_name",
        ),
        (
            MINIMAL + "playbooks: {auto_fix: {Not_Kebab: true}}",
            "config.yaml: playbooks.auto_fix.Not_Kebab: expected a kebab-case playbook id",
        ),
        (
            MINIMAL + "endpoint_url: 127.0.0.1:5000",
            "config.yaml: endpoint_url: expected an http(s) URL",
        ),
        (
            "regions: []\naccounts: [{id: '111111111111'}]",
            "config.yaml: regions: expected at least one entry.",
        ),
        (
            "regions: [eu-west-1]",
            "config.yaml: (top level): expected at least one entry in accounts, or organization",
        ),
        (
            "regions: [Ireland]\norganization: true",
            "config.yaml: regions[0]: expected an AWS Region name such as eu-west-1",
        ),
    ],
)
def test_errors_name_the_field(text: str, expected: str) -> None:
    message = _error(text)
    assert message.startswith(expected), message


def test_unknown_key_is_reported_before_the_missing_one_it_explains() -> None:
    assert _error("regionz: [eu-west-1]\norganization: true").startswith(
        "config.yaml: regionz: is not a known field"
    )


def test_several_problems_are_counted() -> None:
    assert _error("regions: [1]\naccounts: [{id: '1'}]").endswith("(and 1 more problem).")


def test_invalid_yaml_names_the_line() -> None:
    assert _error("regions: [eu-west-1\n").startswith("config.yaml: invalid YAML at line 2")


def test_not_a_mapping() -> None:
    assert _error("- a\n- b\n") == "config.yaml: expected a mapping of settings at the top level."


def test_deeply_nested_yaml_is_one_sentence() -> None:
    message = _error("regions: " + "[" * 2000 + "]" * 2000)
    assert message == "config.yaml: nested too deeply to be a configuration."


def test_a_config_that_is_not_utf8_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_bytes(b"regions: [eu-west-1]\n# caf\xe9\n")
    with pytest.raises(BadInputError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: the config file is not UTF-8 text."


def test_load_config_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("regions: [eu-west-1]\naccounts: [{id: '42'}]\n")
    with pytest.raises(BadInputError, match=rf"^{path}: accounts\[0\]\.id: "):
        load_config(path)
    with pytest.raises(BadInputError, match="cannot read the config file"):
        load_config(tmp_path / "missing.yaml")


def test_unquoted_account_id_is_accepted_back() -> None:
    assert parse_config("regions: [eu-west-1]\naccounts: [{id: 111111111111}]").accounts[0].id == (
        "111111111111"
    )


def test_duplicate_accounts_are_refused() -> None:
    text = "regions: [eu-west-1]\naccounts: [{id: '111111111111'}, {id: '111111111111'}]"
    assert "expected each account once" in _error(text)


def test_organization_true_false_and_settings() -> None:
    assert parse_config("regions: [eu-west-1]\norganization: true").organization is not None
    on = parse_config("regions: [eu-west-1]\norganization: true").organization
    assert on is not None and on.role_name == "OrganizationAccountAccessRole"
    assert parse_config(MINIMAL + "organization: false").organization is None
    custom = parse_config("regions: [eu-west-1]\norganization: {role_name: Audit}").organization
    assert custom is not None and custom.role_name == "Audit"


def test_backup_prefix_is_normalised() -> None:
    config = parse_config(MINIMAL + "backup: {bucket: my-bucket, prefix: /a/b/}")
    assert config.backup is not None and config.backup.prefix == "a/b"
    assert "backup.prefix" in _error(MINIMAL + "backup: {bucket: my-bucket, prefix: a/../b}")


def test_context_for_an_owner() -> None:
    config = parse_config(
        MINIMAL + "trust: {trusted_accounts: ['111111111111', '222222222222'], "
        "org_id: o-abcdefghij}\nadmins: ['arn:aws:iam::*:role/Admin']\n"
        "via_services: [s3.eu-west-1.amazonaws.com]\n"
    )
    assert config.context_for("111111111111") == Context(
        owner_account="111111111111",
        trusted_accounts=frozenset({"222222222222"}),
        org_id="o-abcdefghij",
        admins=("arn:aws:iam::*:role/Admin",),
        via_services=("s3.eu-west-1.amazonaws.com",),
    )


def test_check_references_names_unknown_rules_and_playbooks() -> None:
    config = parse_config(
        MINIMAL + "rules: {disable: [KMS-PUBLIK]}\nplaybooks: {auto_fix: {fix-it: true}}"
    )
    with pytest.raises(BadInputError, match=r"rules.disable: unknown rule 'KMS-PUBLIK'"):
        config.check_references({"KMS-PUBLIC"}, {"fix-it"})
    with pytest.raises(BadInputError, match=r"playbooks.auto_fix: unknown playbook 'fix-it'"):
        config.check_references({"KMS-PUBLIK"}, {"other"})
    config.check_references({"KMS-PUBLIK"}, {"fix-it"})


def test_suppression_expiry() -> None:
    config = parse_config(
        MINIMAL + "rules: {suppressions: [{rule: KMS.1, account: '1*', reason: known, "
        "expires: 2026-01-31}]}"
    )
    suppression = config.rules.suppressions[0]
    assert suppression.is_active(date(2026, 1, 31))
    assert not suppression.is_active(date(2026, 2, 1))


def test_config_is_immutable() -> None:
    config = parse_config(MINIMAL)
    with pytest.raises(ValueError, match="frozen"):
        config.regions = ("us-east-1",)


def test_severity_names_match_the_contract() -> None:
    assert get_args(Severity) == SEVERITIES


@pytest.mark.parametrize(("text", "where"), [
    (MINIMAL + "sandbox_accounts: ['111111111111']\nsandbox_accounts: ['999999999999']\n",
     "line 4, column 1: the key 'sandbox_accounts' appears twice in one mapping (first at "
     "line 3)"),
    (MINIMAL + "trust:\n  org_id: o-abcdefghij\n  org_id: o-zzzzzzzzzz\n",
     "line 5, column 3: the key 'org_id' appears twice in one mapping (first at line 4)"),
    (MINIMAL + "limits: {share: 0.5, share: 1}\n",
     "line 3, column 22: the key 'share' appears twice in one mapping (first at line 3)"),
])
def test_a_key_written_twice_is_refused(text: str, where: str) -> None:
    """PyYAML kept the last value silently: a second sandbox_accounts replaced the first."""
    assert _error(text) == f"config.yaml: invalid YAML at {where}."


def test_a_merge_may_still_override_what_it_brings_in() -> None:
    config = parse_config(MINIMAL + "limits:\n  <<: {share: 0.5, max_shards: 2}\n"
                          "  share: 0.25\n")
    assert (config.limits.share, config.limits.max_shards) == (0.25, 2)


@pytest.mark.parametrize(("extra", "message"), [
    ("rules: {disable: [KMS-PUBLIK]}\n", "rules.disable: unknown rule 'KMS-PUBLIK'; expected "
     "one of: IAM-KMS-1, "),
    ("playbooks: {auto_fix: {nosuch: true}}\n", "playbooks.auto_fix: unknown playbook "
     "'nosuch'; expected one of: destructive-actions, "),
])
def test_unknown_rule_and_playbook_ids_are_said_like_every_config_error(
    extra: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """They began 'config:' and the playbook one printed a Python list, with no file name and
    no final period."""
    path = tmp_path / "my-config.yaml"
    path.write_text(MINIMAL + extra)
    assert main(["scan", "--snapshot", str(ROOT / "tests" / "data" / "example-snapshot.json"),
                 "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"remediator: error: {path}: {message}")
    assert err.endswith(".\n") and "[" not in err


def test_an_account_listed_twice_is_named_once() -> None:
    assert _error("regions: [eu-west-1]\naccounts: [{id: '111111111111'}, "
                  "{id: '111111111111'}]\n").endswith(
        "expected each account once in accounts, got 111111111111 more than once.")
