"""The command line: parses arguments, calls one command, turns errors into exit codes.

Exit codes (DESIGN.md): 0 ok and nothing found; 1 findings present; 2 bad input or refused;
3 partial failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from remediator import __version__
from remediator.errors import RemediatorError
from remediator.report.printable import printable

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_PARTIAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as exit 2 and one sentence, pointing at --help
    (argparse's own error prints the whole usage block first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"remediator: error: {printable(message)}; see "
                                  f"'{self.prog} --help'.\n")


# -v/--verbose after the command too ("remediator scan -v"); SUPPRESS keeps a -v given before
# the command when it is not repeated after it.
_COMMON = _Parser(add_help=False)
_COMMON.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS,
                     help="debug logging")


def _run_id(value: str) -> str:
    """A run id as ``runs`` lists it: never empty."""
    if not value.strip():
        raise argparse.ArgumentTypeError("empty ('remediator runs' lists the run ids)")
    return value


def _add_check_policy(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "check-policy", parents=[_COMMON],
        help="check one key policy document offline",
        description="Check one KMS key policy document offline, without credentials. "
        "Exit 0 when nothing is found, 1 when there are findings, 2 on bad input.",
    )
    p.add_argument("file", metavar="FILE", help="key policy JSON file, or - for standard input")
    p.add_argument("--account", required=True, metavar="ID", help="the account that owns the key")
    p.add_argument(
        "--trusted-account",
        action="append",
        default=[],
        metavar="ID",
        help="another account trusted with the key (repeatable)",
    )
    p.add_argument("--org-id", metavar="ID", help="the owner's organisation; members are trusted")
    p.add_argument(
        "--admin",
        action="append",
        default=[],
        metavar="ARN",
        help="ARN pattern of an authorised key administrator (repeatable); "
        "without one, only the owner root is authorised",
    )
    p.add_argument(
        "--via-service",
        action="append",
        default=[],
        metavar="SERVICE",
        help="a service allowed in kms:ViaService (repeatable)",
    )
    p.add_argument(
        "--key-arn",
        metavar="ARN",
        help="the key the policy is attached to: settles statements whose Resource names "
        "particular keys (without it, such an Allow is taken to apply and such a Deny not, "
        "and the key is taken to be in the aws partition)",
    )
    _add_format(p, ("table", "json"))
    p.set_defaults(run=_run_check_policy)


def _run_check_policy(args: argparse.Namespace) -> int:
    from remediator.commands.check_policy import build_context, check_policy

    ctx = build_context(
        args.account, args.trusted_account, args.org_id, args.admin, args.via_service,
        args.key_arn,
    )
    findings = check_policy(args.file, ctx, args.format)
    return EXIT_FINDINGS if findings else EXIT_OK


def _add_format(p: argparse.ArgumentParser, formats: tuple[str, ...]) -> None:
    p.add_argument("--format", choices=formats, default=formats[0],
                   help=f"output format (default: {formats[0]})")


def _add_source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="config.yaml", metavar="FILE",
                   help="configuration (default: config.yaml)")
    p.add_argument("--snapshot", metavar="FILE",
                   help="use a saved inventory snapshot instead of scanning AWS")
    p.add_argument("--snapshot-out", metavar="FILE", help="save the inventory snapshot here")
    p.add_argument("--profile", metavar="NAME", help="AWS profile for the base credentials")
    p.add_argument("--region", metavar="REGION", help="home Region for STS and Organizations")


def _add_scan(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "scan", parents=[_COMMON], help="find exposed keys in the configured accounts and Regions",
        description="Scan the configured targets (or read a snapshot) and report findings. "
        "Exit 0 when nothing is found, 1 when there are findings or resources that could not "
        "be assessed (a policy that could not be read or is not valid), 2 on bad input.")
    _add_source_options(p)
    _add_format(p, ("table", "json", "markdown", "sarif", "asff"))
    p.set_defaults(run=_run_scan)


def _run_scan(args: argparse.Namespace) -> int:
    from remediator.commands.scanning import run_scan
    from remediator.config import load_config

    result = run_scan(load_config(args.config), args.format, args.snapshot, args.snapshot_out,
                      args.profile, args.region)
    return EXIT_FINDINGS if result.findings or result.unknown else EXIT_OK


def _add_plan(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "plan", parents=[_COMMON],
        help="propose minimal, proven policy patches for the findings",
        description="Plan from a live scan of the configured targets, or offline from a saved "
        "snapshot. Prints the review; with "
        "--out, writes the plan file whose digest 'apply' needs. Exit 1 when there is anything "
        "to change or for a person to look at, 0 when nothing, 2 on bad input.",
    )
    _add_source_options(p)
    p.add_argument("--out", metavar="FILE", help="write the plan JSON here")
    p.add_argument("--include-manual", action="append", default=[], metavar="PLAYBOOK",
                   help="include the proven patches of a playbook that is not auto-fix "
                   "(repeatable)")
    _add_format(p, ("table", "markdown", "json"))
    p.set_defaults(run=_run_plan)


def _run_plan(args: argparse.Namespace) -> int:
    from remediator.commands.planning import run_plan

    plan = run_plan(args.snapshot, args.config, args.out, args.format, args.include_manual,
                    snapshot_out=args.snapshot_out, profile=args.profile, region=args.region)
    return EXIT_FINDINGS if plan["changes"] or plan["needs_a_person"] else EXIT_OK


def _add_show(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("show", parents=[_COMMON], help="render a saved plan for review",
                       description="Render a saved plan. Exit 0 when it is shown, 2 when it "
                       "cannot be read or its digest does not match its content.")
    p.add_argument("plan", metavar="PLAN", help="a plan file written by 'remediator plan --out'")
    _add_format(p, ("table", "markdown", "json"))
    p.set_defaults(run=_run_show)


def _run_show(args: argparse.Namespace) -> int:
    from remediator.commands.planning import run_show

    run_show(args.plan, args.format)
    return EXIT_OK


def _add_aws_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default="config.yaml", metavar="FILE",
                   help="configuration (default: config.yaml)")
    p.add_argument("--profile", metavar="NAME", help="AWS profile for the base credentials")
    p.add_argument("--region", metavar="REGION", help="home Region for STS and S3")


def _add_apply(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "apply", parents=[_COMMON],
        help="apply an approved plan in sandbox accounts, with backups",
        description="Apply a saved plan. Every original is backed up to the versioned S3 bucket "
        "and verified first; only sandbox accounts (checked with STS) are changed; a key whose "
        "live policy moved since the plan is skipped. Exit 0 all applied, 2 refused, 3 some "
        "keys not changed, or the run record could not be saved mid-run (the run stops there "
        "and names the keys it changed). The run id is printed last, and logged on stderr "
        "(apply.start).")
    p.add_argument("plan", metavar="PLAN", help="a plan file written by 'remediator plan --out'")
    p.add_argument("--approve", metavar="DIGEST",
                   help="the plan's digest (remediator show prints it); without it a person "
                   "must confirm at a terminal")
    p.add_argument("--include-manual", action="append", default=[], metavar="PLAYBOOK",
                   help="allow changes from a playbook that is not auto-fix (repeatable)")
    _add_aws_options(p)
    p.set_defaults(run=_run_apply)


def _run_apply(args: argparse.Namespace) -> int:
    from remediator.commands.writes import run_apply
    from remediator.config import load_config

    result = run_apply(args.plan, args.approve, load_config(args.config), args.include_manual,
                       args.profile, args.region)
    return result.exit_code


def _add_rollback(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "rollback", parents=[_COMMON], help="restore every key a run touched from its backups",
        description="Restore the key policies and revoked grants of a run from its S3 backups. "
        "A key whose live policy is no longer what the run applied is left alone unless --force. "
        "A run still marked running whose record was written in the last 10 minutes is refused "
        "(its apply may still be going) unless --apply-ended. "
        "Exit 0 when every key is restored (or, with --dry-run, would be), 2 on bad input, "
        "an unknown run or a refused one, 3 when some key was not restored or the run record "
        "could not be saved (rollback stops there and names the keys it changed).")
    p.add_argument("run_id", metavar="RUN_ID", type=_run_id,
                   help="the run to restore, as 'apply' printed it and 'runs' lists it")
    p.add_argument("--key", metavar="ARN", help="restore only this key")
    p.add_argument("--dry-run", action="store_true", help="say what would be restored")
    p.add_argument("--force", action="store_true",
                   help="restore keys whose policy changed since the run")
    p.add_argument("--drop-missing-principals", action="store_true",
                   help="restore without principals that no longer exist (listed first)")
    p.add_argument("--apply-ended", action="store_true",
                   help="the run's apply was stopped or killed: roll it back even though its "
                   "record says running and was written in the last 10 minutes")
    _add_aws_options(p)
    p.set_defaults(run=_run_rollback)


def _run_rollback(args: argparse.Namespace) -> int:
    from remediator.commands.writes import run_rollback
    from remediator.config import load_config

    result = run_rollback(args.run_id, load_config(args.config), args.key, args.dry_run,
                          args.force, args.drop_missing_principals, args.profile, args.region,
                          apply_ended=args.apply_ended)
    return result.exit_code


def _add_runs(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("runs", parents=[_COMMON], help="list runs and their backups",
                       description="List the runs recorded in the backup bucket. Exit 0, or 2 "
                       "on bad input or a backup bucket that cannot be read.")
    _add_aws_options(p)
    p.set_defaults(run=_run_runs)


def _run_runs(args: argparse.Namespace) -> int:
    from remediator.commands.writes import run_runs
    from remediator.config import load_config

    run_runs(load_config(args.config), args.profile, args.region)
    return EXIT_OK


def _add_demo(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "demo", parents=[_COMMON],
        help="run everything against an embedded local AWS (no credentials)",
        description="Start a moto server on 127.0.0.1, seed an organisation with exposed keys, "
        "then scan, plan, apply in the sandbox, show the keys clean, roll back, show them "
        "restored, and stop the server.")
    p.add_argument("--workdir", metavar="DIR", help="keep the demo's config and plan here")
    p.set_defaults(run=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from remediator.demo.run import run_demo

    return run_demo(args.workdir)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="remediator",
        description="Find exposed AWS KMS keys, propose minimal proven policy patches, apply "
        "approved plans in sandbox accounts with S3 backups, and roll runs back.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_scan(sub)
    _add_plan(sub)
    _add_show(sub)
    _add_apply(sub)
    _add_rollback(sub)
    _add_runs(sub)
    _add_check_policy(sub)
    _add_demo(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; its exit code, whatever became of standard output (see output.py)."""
    from remediator.output import OutputGuard

    guard = OutputGuard()
    try:
        return _main(argv)
    finally:
        guard.release()


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.error("a COMMAND is required")
    from remediator.logs import configure

    configure(verbose=args.verbose, quiet=args.command == "demo" and not args.verbose)
    try:
        code: int = args.run(args)
    except RemediatorError as exc:
        print(f"remediator: error: {printable(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("remediator: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
