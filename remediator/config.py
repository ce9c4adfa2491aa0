"""The ``config.yaml`` schema: targets, trust, rules, backups and limits.

Every mapping forbids unknown keys, so a typo is an error that names the field instead of a
setting silently ignored. ``load_config`` turns any problem into one ``BadInputError`` sentence
naming the file, the dotted field path and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from remediator.aws.ratelimit import KMS_DEFAULT_QUOTAS
from remediator.errors import BadInputError
from remediator.field_errors import describe_error
from remediator.types import Context
from remediator.validate import ACCOUNT_ID, ORG_ID

_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_ROLE_RE = re.compile(r"^[\w+=,.@/-]{1,512}$")
_RULE_RE = re.compile(r"^[A-Z][A-Z0-9]*([.-][A-Z0-9]+)*$")
_KEY_ARN_RE = re.compile(r"^arn:[a-z*?-]+:kms:[a-z0-9*?-]*:[0-9*?]*:[\w*?/:-]+$")
_ACCOUNT_PATTERN_RE = re.compile(r"^[0-9*?]{1,12}$")
_URL_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")
_PLAYBOOK_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

Severity = Literal["critical", "high", "medium", "low", "info"]


def _account_id(value: object) -> object:
    """A 12-digit account id; YAML reads an unquoted one as an int, which is accepted back."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not ACCOUNT_ID.fullmatch(value):
        raise ValueError(f"expected a 12-digit AWS account id in quotes, got {value!r}")
    return value


def _pattern(regex: re.Pattern[str], what: str) -> Any:
    def check(value: object) -> object:
        if not isinstance(value, str) or not regex.fullmatch(value):
            raise ValueError(f"expected {what}, got {value!r}")
        return value

    return BeforeValidator(check)


AccountId = Annotated[str, BeforeValidator(_account_id)]
Region = Annotated[str, _pattern(_REGION_RE, "an AWS Region name such as eu-west-1")]
RoleName = Annotated[str, _pattern(_ROLE_RE, "an IAM role name or path/name")]
RuleId = Annotated[str, _pattern(_RULE_RE, "a rule id such as KMS-PUBLIC or KMS.1")]
PlaybookId = Annotated[str, _pattern(_PLAYBOOK_RE, "a kebab-case playbook id")]
OrgId = Annotated[str, _pattern(ORG_ID, "an organization id such as o-a1b2c3d4e5")]
KeyArnPattern = Annotated[str, _pattern(_KEY_ARN_RE, "a KMS key ARN pattern (* and ? wildcards)")]
AccountPattern = Annotated[str, _pattern(_ACCOUNT_PATTERN_RE, "an account id pattern like 1111*")]


def _kms_api(value: object) -> object:
    if value not in KMS_DEFAULT_QUOTAS:
        raise ValueError(
            f"expected a KMS API with a request quota ({', '.join(sorted(KMS_DEFAULT_QUOTAS))}), "
            f"got {value!r}"
        )
    return value


ApiName = Annotated[str, BeforeValidator(_kms_api)]
EndpointUrl = Annotated[str, _pattern(_URL_RE, "an http(s) URL such as http://127.0.0.1:5000")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountTarget(_Strict):
    """One account to scan; without ``role_name`` the caller's own credentials are used."""

    id: AccountId
    role_name: RoleName | None = None


def _organization(value: object) -> object:
    """``organization: true`` means the defaults, ``false`` (or absent) means off."""
    if value is True:
        return {}
    if value is False:
        return None
    return value


class OrganizationTarget(_Strict):
    """Scan every ACTIVE account Organizations ``ListAccounts`` returns."""

    role_name: RoleName = "OrganizationAccountAccessRole"
    exclude: tuple[AccountId, ...] = ()


class Trust(_Strict):
    trusted_accounts: tuple[AccountId, ...] = ()
    org_id: OrgId | None = None


class Backup(_Strict):
    bucket: Annotated[str, _pattern(_BUCKET_RE, "an S3 bucket name")]
    prefix: str = "kms-remediator"
    kms_key_id: str | None = None

    @field_validator("prefix")
    @classmethod
    def _clean_prefix(cls, value: str) -> str:
        cleaned = value.strip("/")
        if not cleaned or ".." in cleaned.split("/"):
            raise ValueError(f"expected a non-empty S3 key prefix without '..', got {value!r}")
        return cleaned


class Playbooks(_Strict):
    folders: tuple[str, ...] = ()
    auto_fix: dict[PlaybookId, bool] = Field(default_factory=dict)


class Suppression(_Strict):
    """Hide findings of one rule for matching keys or accounts until ``expires``."""

    rule: RuleId
    key_arn: KeyArnPattern | None = None
    account: AccountPattern | None = None
    reason: Annotated[str, Field(min_length=3)]
    expires: date

    @model_validator(mode="after")
    def _has_target(self) -> Suppression:
        if self.key_arn is None and self.account is None:
            raise ValueError("expected key_arn or account (a pattern) to say what is suppressed")
        return self

    def is_active(self, today: date) -> bool:
        return today <= self.expires


class Rules(_Strict):
    disable: tuple[RuleId, ...] = ()
    severity: dict[RuleId, Severity] = Field(default_factory=dict)
    suppressions: tuple[Suppression, ...] = ()


class Limits(_Strict):
    """How hard the tool may push each account's KMS request quotas."""

    share: Annotated[float, Field(gt=0, le=1)] = 0.5
    quotas: dict[ApiName, Annotated[float, Field(gt=0)]] = Field(default_factory=dict)
    max_shards: Annotated[int, Field(ge=1, le=64)] = 4
    workers_per_shard: Annotated[int, Field(ge=1, le=64)] = 16


class Config(_Strict):
    """The whole ``config.yaml``. ``source`` names the file in messages (``parse_config``)."""

    accounts: tuple[AccountTarget, ...] = ()
    organization: Annotated[OrganizationTarget | None, BeforeValidator(_organization)] = None
    regions: Annotated[tuple[Region, ...], Field(min_length=1)]
    endpoint_url: EndpointUrl | None = None
    trust: Trust = Trust()
    admins: tuple[str, ...] = ()
    via_services: tuple[str, ...] = ()
    sandbox_accounts: tuple[AccountId, ...] = ()
    backup: Backup | None = None
    playbooks: Playbooks = Playbooks()
    rules: Rules = Rules()
    limits: Limits = Limits()
    _source: str = PrivateAttr(default="config.yaml")

    @property
    def source(self) -> str:
        return self._source

    @model_validator(mode="after")
    def _has_targets(self) -> Config:
        if not self.accounts and self.organization is None:
            raise ValueError("expected at least one entry in accounts, or organization: true")
        ids = [a.id for a in self.accounts]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"expected each account once in accounts, got {', '.join(twice)} "
                             "more than once")
        return self

    def context_for(self, owner_account: str, org_accounts: frozenset[str] = frozenset(),
                    key_arn: str | None = None) -> Context:
        """The detector context for keys owned by ``owner_account``; ``org_accounts``: the
        member accounts of ``trust.org_id`` as the scan read them (``Snapshot.members_of``);
        ``key_arn``: the key whose policy is judged, when there is one."""
        trusted = frozenset(self.trust.trusted_accounts) - {owner_account}
        return Context(
            owner_account=owner_account,
            trusted_accounts=trusted,
            org_id=self.trust.org_id,
            admins=self.admins,
            via_services=self.via_services,
            # The same set for every key (not one without the owner each), so contexts compare
            # by identity in the detectors' memos.
            org_accounts=org_accounts if self.trust.org_id else frozenset(),
            key_arn=key_arn,
        )

    def check_references(self, rule_ids: Iterable[str], playbook_ids: Iterable[str]) -> None:
        """Fail when a rule or playbook id named in the config does not exist."""
        rules, books = set(rule_ids), set(playbook_ids)
        named = [("rules.disable", r) for r in self.rules.disable]
        named += [("rules.severity", r) for r in self.rules.severity]
        named += [
            (f"rules.suppressions[{i}].rule", s.rule) for i, s in enumerate(self.rules.suppressions)
        ]
        for path, rule in named:
            if rule not in rules:
                raise BadInputError(
                    f"{self.source}: {path}: unknown rule {rule!r}; expected one of: "
                    f"{', '.join(sorted(rules))}."
                )
        for book in self.playbooks.auto_fix:
            if book not in books:
                raise BadInputError(
                    f"{self.source}: playbooks.auto_fix: unknown playbook {book!r}; expected "
                    f"one of: {', '.join(sorted(books))}."
                )


class _Loader(yaml.SafeLoader):
    """SafeLoader that leaves dates as strings, so pydantic (not PyYAML) reports a bad date
    with the field it belongs to, and refuses a key written twice in one mapping: PyYAML
    keeps the last silently, so a second ``sandbox_accounts`` would replace the first unseen.
    Keys a merge (``<<: *defaults``) brings in may still be overridden, as YAML means them."""

    def construct_mapping(self, node: yaml.MappingNode,
                          deep: bool = False) -> dict[Hashable, Any]:
        first_at: dict[Hashable, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # SafeLoader reports an unhashable key itself
            if key in first_at:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"the key {key!r} appears twice in one mapping (first at line "
                    f"{first_at[key].start_mark.line + 1})", key_node.start_mark)
            first_at[key] = key_node
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_config(text: str, source: str = "config.yaml") -> Config:
    """Validate config text; ``source`` names it in error messages."""
    try:
        data = yaml.load(text, Loader=_Loader)  # _Loader is a SafeLoader: no object tags
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "unreadable"
        raise BadInputError(f"{source}: invalid YAML{where}: {problem}.") from exc
    except RecursionError:
        raise BadInputError(f"{source}: nested too deeply to be a configuration.") from None
    if not isinstance(data, dict):
        raise BadInputError(f"{source}: expected a mapping of settings at the top level.")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise BadInputError(describe_error(source, exc, Config)) from exc
    config._source = source
    return config


def load_config(path: str | Path) -> Config:
    """Read and validate ``config.yaml``; every problem is one ``BadInputError`` sentence."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInputError(f"{file}: cannot read the config file ({exc.strerror}).") from exc
    except UnicodeDecodeError:
        raise BadInputError(f"{file}: the config file is not UTF-8 text.") from None
    return parse_config(text, str(file))
