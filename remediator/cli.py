"""The command line: parses arguments, calls one command, turns errors into exit codes.

Exit codes (DESIGN.md): 0 ok and nothing found; 1 findings present; 2 bad input or refused;
3 partial failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from remediator import __version__
from remediator.errors import RemediatorError

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_PARTIAL = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as exit 2 with one sentence (its default is 2 too)."""


def _add_check_policy(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "check-policy",
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
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(run=_run_check_policy)


def _run_check_policy(args: argparse.Namespace) -> int:
    from remediator.commands.check_policy import build_context, check_policy

    ctx = build_context(
        args.account, args.trusted_account, args.org_id, args.admin, args.via_service
    )
    findings = check_policy(args.file, ctx, args.format)
    return EXIT_FINDINGS if findings else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="remediator",
        description="Find exposed AWS KMS keys, propose minimal proven policy patches, apply "
        "approved plans in sandbox accounts with S3 backups, and roll runs back.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_check_policy(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    from remediator.logs import configure

    configure(verbose=args.verbose)
    try:
        code: int = args.run(args)
    except RemediatorError as exc:
        print(f"remediator: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("remediator: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
