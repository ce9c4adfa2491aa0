"""The command line itself: usage errors are one sentence, options read wherever they are
written, and every command, argument and option says what it is for and how it exits."""

from __future__ import annotations

import argparse

import pytest

from remediator.cli import build_parser, main

COMMANDS = ("scan", "plan", "show", "apply", "rollback", "runs", "check-policy", "demo")


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize(("argv", "message"), [
    (["check-policy"], "the following arguments are required: FILE, --account; see "
     "'remediator check-policy --help'."),
    (["check-policy", "f.json", "--account", "111122223333", "--format", "yaml"],
     "argument --format: invalid choice: 'yaml' (choose from 'table', 'json'); see "
     "'remediator check-policy --help'."),
    ([], "a COMMAND is required; see 'remediator --help'."),
    (["rollback", ""], "argument RUN_ID: empty ('remediator runs' lists the run ids); see "
     "'remediator rollback --help'."),
    (["rollback", "  "], "argument RUN_ID: empty ('remediator runs' lists the run ids); see "
     "'remediator rollback --help'."),
])
def test_a_usage_error_is_one_sentence_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse printed its usage block first (five lines for check-policy), and an empty run
    id went on to 'There is no run  in s3://...'."""
    with pytest.raises(SystemExit) as info:
        main(argv)
    captured = capsys.readouterr()
    assert (info.value.code, captured.out) == (2, "")
    assert captured.err == f"remediator: error: {message}\n"


@pytest.mark.parametrize(("argv", "verbose"), [
    (["-v", "check-policy", "f.json", "--account", "1"], True),
    (["check-policy", "f.json", "--account", "1", "-v"], True),
    (["scan", "--verbose"], True),
    (["check-policy", "f.json", "--account", "1"], False),
])
def test_verbose_before_or_after_the_command(argv: list[str], verbose: bool) -> None:
    assert build_parser().parse_args(argv).verbose is verbose


@pytest.mark.parametrize("command", COMMANDS)
def test_every_argument_and_option_has_help(command: str) -> None:
    parser = _subparsers()[command]
    for action in parser._actions:
        assert action.help, f"{command} {action.option_strings or action.dest} has no help"
        if action.default == [] and action.option_strings:
            assert "(repeatable)" in action.help, f"{command} {action.option_strings}"


@pytest.mark.parametrize(("command", "says"), [
    ("scan", ["1 when there are findings or resources that could not be assessed",
              "2 on bad input"]),
    ("plan", ["0 when nothing", "2 on bad input"]),
    ("show", ["Exit 0 when it is shown", "2 when it cannot be read"]),
    ("rollback", ["Exit 0 when every key is restored", "2 on bad input", "3 when some key"]),
    ("runs", ["Exit 0", "2 on bad input"]),
])
def test_each_command_says_its_exit_codes(command: str, says: list[str]) -> None:
    description = " ".join((_subparsers()[command].description or "").split())
    for text in says:
        assert text in description
