"""The JSON users give the tool is read strictly, and hostile JSON is one sentence, not a
traceback, in every command that reads it (check-policy, show, scan --snapshot)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from remediator.cli import main
from remediator.errors import BadInputError
from remediator.userjson import loads_strict

# Python refuses to convert an integer of more than 4,300 digits (a ValueError, not a
# JSONDecodeError); a double cannot hold 1e999, which Python reads as infinity.
HUGE_INTEGER = "1" + "0" * 5000
HOSTILE = {
    "integer-too-long": (HUGE_INTEGER, "an integer too long to read"),
    "out-of-range": ("1e999", "the number 1e999 is too large"),
    "minus-out-of-range": ("-1e999", "the number -1e999 is too large"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_numbers_json_cannot_hold_are_refused(case: str) -> None:
    literal, message = HOSTILE[case]
    with pytest.raises(BadInputError, match=message):
        loads_strict(f'{{"X": {literal}}}', "f.json", "a key policy")


def test_numbers_in_range_are_read() -> None:
    assert loads_strict('{"a": 1e300, "b": 12, "c": 1e-999}', "f", "x") == {
        "a": 1e300, "b": 12, "c": 0.0}


def test_a_syntax_error_is_left_to_the_caller() -> None:
    with pytest.raises(json.JSONDecodeError):
        loads_strict("{1", "f", "x")


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("command", ["check-policy", "show", "scan"])
def test_every_command_refuses_them_in_one_sentence(
    command: str, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "input.json"
    path.write_text(f'{{"version": 1, "Statement": {HOSTILE[case][0]}}}')
    argv = {"check-policy": ["check-policy", str(path), "--account", "111122223333"],
            "show": ["show", str(path)],
            "scan": ["scan", "--snapshot", str(path), "--config",
                     str(Path(__file__).parent / "data" / "example-config.yaml")]}[command]
    code = main(argv)
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert err.startswith("remediator: error: ") and len(err.splitlines()) == 1
    assert HOSTILE[case][1] in err
