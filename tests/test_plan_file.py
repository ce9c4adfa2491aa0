"""The plan file contract: DESIGN.md's fields, a digest over canonical content that any edit
breaks, and `show` refusing an edited plan with exit 2."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from remediator.cli import main
from remediator.commands.planning import plan_snapshot
from remediator.config import Config, load_config
from remediator.demo.seed import exposed_policies
from remediator.errors import BadInputError
from remediator.plan import PlanIntegrityError, load_plan, plan_digest, policy_sha256, write_plan
from remediator.playbooks import load_playbooks
from remediator.report.plan_view import render_plan_markdown, render_plan_terminal
from remediator.snapshot import Snapshot, load_snapshot, snapshot_from_dict

DATA = Path(__file__).parent / "data"
SNAPSHOT = DATA / "example-snapshot.json"
CONFIG = DATA / "example-config.yaml"


@pytest.fixture(scope="module")
def plan() -> dict[str, Any]:
    return plan_snapshot(load_snapshot(SNAPSHOT), load_config(CONFIG), "0" * 64)


def test_plan_has_the_contract_fields(plan: dict[str, Any]) -> None:
    assert set(plan) == {"version", "plan_id", "created_at", "tool_version", "config_sha256",
                         "changes", "needs_a_person", "organization", "digest"}
    assert plan["version"] == 1 and plan["digest"] == plan_digest(plan)
    for change in plan["changes"]:
        assert {"key_arn", "account", "region", "findings", "before", "after", "revoke_grants",
                "playbooks", "auto_fix", "proof", "diff"} <= set(change)
        assert change["before"]["policy_sha256"] == policy_sha256(change["before"]["policy"])
        assert change["after"]["policy_sha256"] == policy_sha256(change["after"]["policy"])
        if change["before"]["policy"] != change["after"]["policy"]:
            assert change["proof"]["ok"] and change["diff"]


def test_example_estate_plan(plan: dict[str, Any]) -> None:
    """A dozen exposed keys: exposure is fixed automatically, the rest waits for a person."""
    changed = {c["key_arn"].rsplit("/", 1)[1][:8]: c for c in plan["changes"]}
    assert set(changed) == {"00000001", "00000002", "00000003", "00000004", "00000005",
                            "00000006", "00000011"}
    assert all(c["auto_fix"] for c in plan["changes"])
    assert changed["00000011"]["revoke_grants"][0]["GranteePrincipal"].endswith("role/Batch")
    unreadable = [p for p in plan["needs_a_person"] if p["finding"] is None]
    assert len(unreadable) == 1 and "could not be read" in unreadable[0]["reason"]
    rules_left = {p["finding"]["rule"] for p in plan["needs_a_person"] if p["finding"]}
    assert {"IAM-KMS-1", "IAM-KMS-3", "KMS-WILDCARD-ACTION"} <= rules_left


def _mutations(plan: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for path in (("changes", 0, "after", "policy", "Statement", 0, "Effect"),
                 ("changes", 0, "auto_fix"), ("config_sha256",),
                 ("changes", 0, "before", "policy_sha256")):
        edited = json.loads(json.dumps(plan))
        node = edited
        for p in path[:-1]:
            node = node[p]
        old = node[path[-1]]
        node[path[-1]] = (not old) if isinstance(old, bool) else (
            "Deny" if old == "Allow" else old + "0")
        out.append(edited)
    return out


def test_any_edit_changes_the_digest(plan: dict[str, Any], tmp_path: Path) -> None:
    for edited in _mutations(plan):
        assert plan_digest(edited) != plan["digest"]
        path = tmp_path / "edited.json"
        write_plan(edited, path)
        with pytest.raises(PlanIntegrityError, match="does not match its digest"):
            load_plan(path)


def test_show_renders_a_plan_and_refuses_an_edited_one(
    plan: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "plan.json"
    write_plan(plan, good)
    assert main(["show", str(good), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert plan["digest"] in out and "```diff" in out and "## Needs a person" in out
    assert main(["show", str(good)]) == 0
    assert "KMS-PUBLIC" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    write_plan(_mutations(plan)[0], bad)
    assert main(["show", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "does not match its digest" in captured.err


def test_show_refuses_a_deeply_nested_plan(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"version": 1, "changes": ' + "[" * 2000 + "]" * 2000 + "}")
    assert main(["show", str(deep)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"remediator: error: plan {deep} is nested too deeply to be a plan\n"


def test_plan_command_writes_the_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.json"
    code = main(["plan", "--snapshot", str(SNAPSHOT), "--config", str(CONFIG), "--out",
                 str(out), "--format", "json"])
    assert code == 1
    printed = json.loads(capsys.readouterr().out)
    assert load_plan(out)["digest"] == printed["digest"]


def test_plan_refuses_unknown_manual_playbook(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "--snapshot", str(SNAPSHOT), "--config", str(CONFIG),
                 "--include-manual", "no-such-book"])
    assert code == 2 and "unknown playbooks" in capsys.readouterr().err


OWNER, OUTSIDER = "111122223333", "444455556666"
KEY_ARN = f"arn:aws:kms:eu-west-1:{OWNER}:key/0000000{{}}-0000-0000-0000-000000000000"


def _stmt(sid: Any, principal: Any, action: str) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": action,
            "Resource": "*"}


def _snapshot_with_sid(sid: Any, path: Path) -> Path:
    """Two keys whose patches add a statement: one open to everyone (pinned, plus a copy for
    the trusted account) with an outsider statement of the same Sid (dropped), and one
    without the owner root (a proposal adds it)."""
    exposed = [_stmt("Enable IAM User Permissions", {"AWS": f"arn:aws:iam::{OWNER}:root"},
                     "kms:*"),
               _stmt(sid, {"AWS": ["*", f"arn:aws:iam::{OWNER}:role/App"]}, "kms:Decrypt"),
               _stmt(sid, {"AWS": f"arn:aws:iam::{OUTSIDER}:root"}, "kms:Decrypt")]
    rootless = [_stmt(sid, {"AWS": f"arn:aws:iam::{OWNER}:role/KeyAdmin"}, "kms:*")]
    keys = [{"arn": KEY_ARN.format(n), "account": OWNER, "region": "eu-west-1",
             "key_id": KEY_ARN.format(n).rsplit("/", 1)[1], "manager": "CUSTOMER",
             "state": "Enabled", "multi_region": False, "policy_error": None, "grants": [],
             "aliases": [], "rotation_enabled": True, "tags": {},
             "policy": {"Version": "2012-10-17", "Statement": stmts}}
            for n, stmts in ((1, exposed), (2, rootless))]
    path.write_text(json.dumps({"version": 1, "taken_at": "2025-01-31T12:00:00Z",
                                "keys": keys, "iam_policies": [], "errors": []}))
    return path


def _patched_with_sid(sid: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                      ) -> list[Any]:
    """Every policy the plan command proposes (changes, then proposals for a person), with
    the statements whose Sid is ``sid`` as written given the Sid "Shared" instead."""
    snapshot = _snapshot_with_sid(sid, tmp_path / "snapshot.json")
    assert main(["plan", "--snapshot", str(snapshot), "--config", str(CONFIG),
                 "--format", "json"]) == 1
    plan = json.loads(capsys.readouterr().out)
    policies = [c["after"]["policy"] for c in plan["changes"]] + [
        p["proposal"]["policy"] for p in plan["needs_a_person"] if "proposal" in p]
    written = json.dumps(sid)
    return [[{**s, "Sid": "Shared"} if "Sid" in s and json.dumps(s["Sid"]) == written else s
             for s in policy["Statement"]] for policy in policies]


@pytest.mark.parametrize("sid", [["a"], ["KmsRemediatorTrustedAccounts"], [], {"x": [1]}, 5,
                                 1.5, True, None], ids=json.dumps)
def test_plan_treats_any_json_sid_like_a_string_one(
    sid: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Sid is any JSON value in a snapshot; the plan patches the same statements as for a
    string Sid, keeps each one's Sid as written, and gives added statements their own."""
    expected = _patched_with_sid("Shared", tmp_path, capsys)
    added = {s["Sid"] for policy in expected for s in policy if s["Sid"] != "Shared"}
    assert {"KmsRemediatorTrustedAccounts", "KmsRemediatorEnableRootAccess"} <= added
    assert _patched_with_sid(sid, tmp_path, capsys) == expected


def test_an_added_statement_never_takes_a_string_sid_already_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exposed = _patched_with_sid("KmsRemediatorTrustedAccounts", tmp_path, capsys)[0]
    assert [s["Sid"] for s in exposed] == ["Enable IAM User Permissions", "Shared",
                                           "KmsRemediatorTrustedAccounts2"]


@pytest.mark.parametrize("command", [["show"], ["apply", "--config", str(CONFIG)]])
def test_a_plan_that_is_not_utf8_is_one_sentence(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    latin1 = tmp_path / "plan.json"
    latin1.write_bytes('{"version": 1, "digest": "\u00e9"}'.encode("latin-1"))
    assert main([command[0], str(latin1), *command[1:]]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"remediator: error: plan {latin1} is not UTF-8 text\n"


# Apply checks each after-policy for lockout with the members the plan carries, so the review
# shows them: a missing or stale list is for the reviewer to see before approving.
def test_the_review_shows_the_organisation_members_the_plan_was_proven_with(
        plan: dict[str, Any]) -> None:
    with_members = {**plan, "organization": {"id": "o-a1b2c3d4e5",
                                             "accounts": ["111122223333", "555566667777"]}}
    for shown, expected in ((plan, "organisation members: not read at scan time"),
                            (with_members, "organisation members: 2 account(s) of "
                                           "o-a1b2c3d4e5, as Organizations listed them")):
        out = io.StringIO()
        render_plan_terminal(shown, out)
        assert expected in " ".join(out.getvalue().split())
        assert expected in render_plan_markdown(shown)


@pytest.mark.parametrize(("argv", "message"), [
    (["plan", "--out", "{missing}/plan.json"], "--out {missing}/plan.json: the folder {missing} "
     "does not exist"),
    (["plan", "--out", "{folder}"], "--out {folder} is a folder, not a file name"),
    (["plan", "--snapshot-out", "{missing}/s.json"], "--snapshot-out {missing}/s.json: the "
     "folder {missing} does not exist"),
    (["scan", "--snapshot-out", "{missing}/s.json"], "--snapshot-out {missing}/s.json: the "
     "folder {missing} does not exist"),
])
def test_an_output_file_that_cannot_be_written_is_refused_before_the_work(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """It was a traceback, after the whole scan and plan."""
    places = {"missing": str(tmp_path / "missing"), "folder": str(tmp_path)}
    code = main([*(a.format(**places) for a in argv), "--snapshot", str(SNAPSHOT),
                 "--config", str(CONFIG)])
    captured = capsys.readouterr()
    assert (code, captured.out) == (2, "")
    assert captured.err == f"remediator: error: {message.format(**places)}\n", \
        "one sentence, and no key was planned before it"


def test_a_plan_that_cannot_be_written_is_one_sentence(plan: dict[str, Any],
                                                       tmp_path: Path) -> None:
    with pytest.raises(BadInputError, match=r"^cannot write the plan to .*: No such file"):
        write_plan(plan, tmp_path / "gone" / "plan.json")


# A plan's digest is integrity, not authentication: anyone can recompute it. So a plan whose
# digest matches may still not have the plan format's shape; show and apply answered such a
# plan with a Python traceback (KeyError, AttributeError, TypeError). Plan loading checks the
# shape once (remediator.plan_shape), after the digest: one sentence naming the first field.
_GONE = object()


def _redigest(plan: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in plan.items() if k != "digest"}
    return body | {"digest": plan_digest(body)}


def _edited(plan: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A copy of ``plan`` with ``value`` at ``path`` (or the field removed, for ``_GONE``),
    with a digest that matches it again."""
    edited = json.loads(json.dumps(plan))
    node = edited
    for part in path[:-1]:
        node = node[part]
    if value is _GONE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return _redigest(edited)


_MALFORMED = [
    # the cases a review found (tests/integration helpers' plans, edited and re-digested)
    (("changes",), {"a": 1}, "changes: expected a list"),
    (("changes", 0), "x", "changes[0]: expected a mapping, got 'x'"),
    (("needs_a_person",), _GONE, "needs_a_person: is required"),
    (("changes", 0, "findings", 0, "severity"), _GONE,
     "changes[0].findings[0].severity: is required"),
    (("changes", 0, "findings", 0, "statement"), _GONE,
     "changes[0].findings[0].statement: is required"),
    (("changes", 0, "proof"), [], "changes[0].proof: expected a mapping"),
    (("changes", 0, "before", "policy"), _GONE, "changes[0].before.policy: is required"),
    (("changes", 0, "playbooks"), "abc", "changes[0].playbooks: expected a list, got 'abc'"),
    (("changes", 0, "revoke_grants", 0), 5, "changes[0].revoke_grants[0]: expected a "
     "ListGrants entry (an object with a GrantId), got 5"),
    # a bare id says neither grantee nor operations, which show prints and apply compares
    (("changes", 0, "revoke_grants", 0), "bare-grant-id", "changes[0].revoke_grants[0]: "
     "expected a ListGrants entry (an object with a GrantId), got 'bare-grant-id'"),
    (("changes", 0, "revoke_grants", 0), {"GranteePrincipal": "arn:aws:iam::1:root"},
     "changes[0].revoke_grants[0]: GrantId: expected a non-empty string, got None"),
    # the rest of what show and apply read
    (("plan_id",), 5, "plan_id: expected a string, got 5"),
    (("changes", 0, "key_arn"), None, "changes[0].key_arn: expected a string, got None"),
    (("changes", 0, "auto_fix"), "true", "changes[0].auto_fix: expected true or false, "
     "got 'true'"),
    (("changes", 0, "findings", 0, "statement"), "1",
     "changes[0].findings[0].statement: expected a whole number, got '1'"),
    (("changes", 0, "after", "policy"), "{}", "changes[0].after.policy: expected a mapping, "
     "got '{}'"),
    (("changes", 0, "after", "policy_sha256"), 5,
     "changes[0].after.policy_sha256: expected a string, got 5"),
    (("changes", 0, "proof", "checks", 0, "passed"), "yes",
     "changes[0].proof.checks[0].passed: expected true or false, got 'yes'"),
    (("changes", 0, "revoke_grants", 0, "Operations"), "Decrypt",
     "changes[0].revoke_grants[0]: Operations: expected a list of strings, got 'Decrypt'"),
    (("needs_a_person", 0), "x", "needs_a_person[0]: expected a mapping, got 'x'"),
    (("needs_a_person", 0, "reason"), _GONE, "needs_a_person[0].reason: is required"),
    (("needs_a_person", 0, "finding"), ["KMS-PUBLIC"],
     "needs_a_person[0].finding: expected a mapping"),
    (("organization",), {"id": "o-a1b2c3d4e5", "accounts": 5},
     "organization.accounts: expected a list, got 5"),
]


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """apply must refuse a malformed plan before it makes any AWS client."""
    from remediator.commands import writes

    def factory(*args: object) -> None:
        raise AssertionError("apply reached AWS with a malformed plan")

    monkeypatch.setattr(writes, "_factory", factory)


@pytest.mark.parametrize(("path", "value", "message"), _MALFORMED,
                         ids=[m[2].split(":")[0] for m in _MALFORMED])
def test_a_plan_of_the_wrong_shape_is_one_sentence_for_show_and_apply(
    path: tuple[str | int, ...], value: Any, message: str, plan: dict[str, Any],
    tmp_path: Path, no_aws: None, capsys: pytest.CaptureFixture[str],
) -> None:
    # changes[0] with a proof, a finding and a grant to revoke, so that every path above is
    # there to edit
    grants = next(c["revoke_grants"] for c in plan["changes"] if c["revoke_grants"])
    first = {**plan["changes"][0], "revoke_grants": grants}
    base = _redigest({**plan, "changes": [first, *plan["changes"][1:]],
                      "organization": {"id": "o-a1b2c3d4e5", "accounts": [OWNER]}})
    edited = _edited(base, path, value)
    path_out = tmp_path / "plan.json"
    write_plan(edited, path_out)
    for argv in (["show", str(path_out)], ["show", str(path_out), "--format", "markdown"],
                 ["apply", str(path_out), "--config", str(CONFIG), "--approve",
                  edited["digest"]]):
        assert main(argv) == 2, argv
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == f"remediator: error: {path_out}: {message}.\n", argv
    with pytest.raises(BadInputError):
        load_plan(path_out)


def test_an_edited_plan_is_reported_as_edited_whatever_its_shape(
    plan: dict[str, Any], tmp_path: Path
) -> None:
    edited = {**_edited(plan, ("changes", 0), "x"), "digest": plan["digest"]}
    write_plan(edited, tmp_path / "plan.json")
    with pytest.raises(PlanIntegrityError, match="does not match its digest"):
        load_plan(tmp_path / "plan.json")


SANDBOX, PRODUCTION, EXTERNAL = "210987654321", "321098765432", "432109876543"
DEMO_ORG = "o-demo123456"


def _demo_key(owner: str, n: int, case: str, statements: list[dict[str, Any]]) -> dict[str, Any]:
    """A key of the demo's estate (remediator.demo.seed), as a snapshot holds it."""
    key_id = f"{n:08d}-0000-4000-8000-{int(owner):012d}"
    root = {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{owner}:root"}, "Action": "kms:*",
            "Resource": "*"}
    grants = [{"GrantId": f"{n:064x}", "KeyId": key_id, "Name": "partner-batch",
               "GranteePrincipal": f"arn:aws:iam::{EXTERNAL}:role/Batch",
               "IssuingAccount": f"arn:aws:iam::{owner}:root",
               "Operations": ["Decrypt", "GenerateDataKey"],
               "CreationDate": "2026-01-01T00:00:00Z"}] if case == "external-grant" else []
    return {"arn": f"arn:aws:kms:eu-west-1:{owner}:key/{key_id}", "account": owner,
            "region": "eu-west-1", "key_id": key_id, "manager": "CUSTOMER", "state": "Enabled",
            "multi_region": False, "policy_error": None, "grants": grants,
            "aliases": [f"alias/demo-{case}"], "rotation_enabled": True, "tags": {"case": case},
            "policy": {"Version": "2012-10-17", "Id": f"demo-{case}",
                       "Statement": statements if case == "missing-root"
                       else [root, *statements]}}


def _demo_estate(org: bool) -> Snapshot:
    """The demo's organisation offline: every case in its sandbox, three in production, and
    what else a plan carries: an unreadable key, a key whose policy is not valid, an IAM
    policy with KMS.1 and one that cannot be checked, and (``org``) the members it read."""
    keys = [_demo_key(SANDBOX, n, case, stmts)
            for n, (case, stmts) in enumerate(exposed_policies(SANDBOX, EXTERNAL).items())]
    keys += [_demo_key(PRODUCTION, 50 + n, case, exposed_policies(PRODUCTION, EXTERNAL)[case])
             for n, case in enumerate(("public", "cross-account", "clean"))]
    keys.append({**_demo_key(SANDBOX, 90, "unread", []), "policy": None,
                 "policy_error": "AccessDeniedException: not authorised"})
    keys.append({**_demo_key(SANDBOX, 91, "invalid", []),
                 "policy": {"Version": "2012-10-17", "Statement": "not a list"}})
    decrypt_all = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}
    iam = [{"arn": f"arn:aws:iam::{SANDBOX}:policy/DecryptAll", "account": SANDBOX,
            "version_id": "v1", "document": decrypt_all},
           {"arn": f"arn:aws:iam::{SANDBOX}:policy/Broken", "account": SANDBOX,
            "version_id": "v2", "document": {"Statement": 5}}]
    return snapshot_from_dict({
        "version": 1, "taken_at": "2026-01-01T00:00:00Z", "keys": keys, "iam_policies": iam,
        "errors": [], "organization": {"id": DEMO_ORG, "accounts": [SANDBOX, PRODUCTION]}
        if org else None})


def _demo_config(org: bool) -> Config:
    """The demo's own config (remediator.demo.run.write_config), with the organisation as
    trust when ``org``."""
    accounts = [SANDBOX, PRODUCTION]
    return Config.model_validate({
        "accounts": [{"id": a, "role_name": "OrganizationAccountAccessRole"} for a in accounts],
        "regions": ["eu-west-1"],
        "trust": {"org_id": DEMO_ORG} if org else {"trusted_accounts": accounts},
        "admins": [f"arn:aws:iam::{a}:role/KeyAdmin" for a in accounts],
        "via_services": ["s3.eu-west-1.amazonaws.com"], "sandbox_accounts": [SANDBOX]})


def _planned() -> list[tuple[str, dict[str, Any]]]:
    example = (load_snapshot(SNAPSHOT), load_config(CONFIG))
    made = []
    for name, (snapshot, config) in {"example": example,
                                     "demo": (_demo_estate(False), _demo_config(False)),
                                     "demo-org": (_demo_estate(True), _demo_config(True))}.items():
        books = load_playbooks().ids()
        for manual in ((), books):  # with every playbook named: changes that are not auto-fix
            made.append((f"{name}{'+manual' if manual else ''}",
                         plan_snapshot(snapshot, config, "0" * 64, manual)))
    return made


def test_every_plan_the_planner_writes_loads_and_shows_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plans = _planned()
    seen: dict[str, set[Any]] = {"org": set(), "auto": set(), "grants": set(),
                                 "statements": set(), "people": set()}
    for name, made in plans:
        path = tmp_path / f"{name}.json"
        write_plan(made, path)
        loaded = load_plan(path)
        assert loaded == made and plan_digest(loaded) == made["digest"], name
        for fmt in ("table", "markdown"):
            assert main(["show", str(path), "--format", fmt]) == 0, (name, fmt)
            assert made["digest"] in capsys.readouterr().out
        seen["org"].add(made["organization"] is not None)
        changes = made["changes"]
        seen["auto"] |= {c["auto_fix"] for c in changes}
        seen["grants"] |= {bool(c["revoke_grants"]) for c in changes}
        seen["statements"] |= {type(f["statement"]) for c in changes for f in c["findings"]}
        seen["people"] |= {(p["key_arn"] is None, p["finding"] is None, "proposal" in p)
                           for p in made["needs_a_person"]}
    # the plans hold every kind of entry the shape check reads
    assert seen["org"] == seen["auto"] == seen["grants"] == {True, False}
    assert seen["statements"] == {int, type(None)}
    assert {(True, False, False), (True, True, False), (False, True, False),
            (False, False, True), (False, False, False)} <= seen["people"]


def test_show_renders_what_the_plan_format_leaves_optional(
    plan: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A grant to revoke as a ListGrants entry without the grantee and operations the API
    marks optional; a change without key_id or proof; an item about nothing named; no
    organization."""
    grants = next(c for c in plan["changes"] if c["revoke_grants"])
    change = {k: v for k, v in grants.items() if k not in ("key_id", "proof")}
    change["revoke_grants"] = [{"GrantId": "entry-grant-id"}]
    person = {"reason": "someone should look"}
    edited = _redigest({k: v for k, v in plan.items() if k != "organization"}
                       | {"changes": [change], "needs_a_person": [person]})
    path = tmp_path / "plan.json"
    write_plan(edited, path)
    assert load_plan(path) == edited
    assert main(["show", str(path)]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "revoke grant entry-grant-id" in shown
    assert "entry-grant-id to" not in shown and "someone should look" in shown
    assert main(["show", str(path), "--format", "markdown"]) == 0
    shown = capsys.readouterr().out
    assert "- revoke grant `entry-grant-id`\n" in shown
    assert "| `-` | - | someone should look |" in shown


def test_show_names_a_service_grantee_and_the_resource_it_serves(
    plan: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A grant to a service principal (GranteeServicePrincipal) is shown with the service and
    its SourceArn, the resource of the untrusted account it serves."""
    grants = next(c for c in plan["changes"] if c["revoke_grants"])
    source = "arn:aws:logs:eu-west-1:444455556666:log-group:app"
    entry = {"GrantId": "svc-grant", "GranteeServicePrincipal": "logs.eu-west-1.amazonaws.com",
             "Operations": ["Decrypt"], "Constraints": {"SourceArn": source}}
    path = tmp_path / "plan.json"
    write_plan(_redigest(plan | {"changes": [grants | {"revoke_grants": [entry]}]}), path)
    assert main(["show", str(path), "--format", "markdown"]) == 0
    assert (f"- revoke grant `svc-grant` to `logs.eu-west-1.amazonaws.com` for `{source}` "
            "(Decrypt)") in capsys.readouterr().out


@pytest.mark.parametrize("side", ["before", "after"])
def test_a_policy_that_is_not_its_marker_is_refused_by_show_too(
    side: str, plan: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Found by review: a plan whose before.policy was a copy of its after.policy (its marker
    still the live policy's) showed "no policy change" and was applied. Apply refuses it, and so
    does every reader of a loaded plan: the policies are what is reviewed."""
    first = plan["changes"][0]
    other = {"Version": "2012-10-17", "Statement": []}
    edited = _redigest(plan | {"changes": [first | {side: {**first[side], "policy": other}}]})
    path = tmp_path / "plan.json"
    write_plan(edited, path)
    assert main(["show", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"changes[0].{side}.policy_sha256 is not the SHA-256 of changes[0].{side}.policy" in err
