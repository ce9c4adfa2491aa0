"""What PutKeyPolicy accepts, and the exact text the tool sends it.

Pure: the proof's not-locked-out check asks ``put_key_policy_problem``, and apply and rollback
send ``put_key_policy_text``, the very text whose size the proof measured.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from remediator.errors import PolicyError
from remediator.policy import parse_policy

# "Up to 32 kilobytes (32,768 bytes)"; Effect, Principal, Action and Resource are required;
# only printable ASCII and Latin-1 characters, tab, line feed and carriage return
# (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
MAX_POLICY_BYTES = 32_768
_REQUIRED = (
    ("Effect",),
    ("Principal", "NotPrincipal"),
    ("Action", "NotAction"),
    ("Resource", "NotResource"),
)


def _allowed_char(c: str) -> bool:
    o = ord(c)
    return c in "\t\n\r" or 0x20 <= o <= 0x7E or 0xA0 <= o <= 0xFF


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def put_key_policy_text(document: Any) -> str:
    """The exact text ``apply`` and ``rollback`` send to PutKeyPolicy, and the text whose size
    ``put_key_policy_problem`` measures: one function, so that a proven plan cannot fail at
    PutKeyPolicy on its size. Indented for people reading it in the console when that fits in
    the limit; compact when only the compact form fits (the marker apply compares is over
    canonical JSON, so the layout changes nothing else)."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    if len(text.encode("utf-8")) <= MAX_POLICY_BYTES:
        return text
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def put_key_policy_problem(document: Any) -> str | None:
    """Why KMS would refuse (or we must not send) this document, or None when it is valid."""
    try:
        policy = parse_policy(document)
    except PolicyError as exc:
        return f"the policy does not parse: {exc}"
    for stmt in policy.statements:
        fields = {str(k).lower() for k in stmt.raw}
        for alternatives in _REQUIRED:
            if not fields & {a.lower() for a in alternatives}:
                return f"statement {stmt.index} has no {' or '.join(alternatives)}"
    text = put_key_policy_text(document)
    size = len(text.encode("utf-8"))
    if size > MAX_POLICY_BYTES:
        return f"the policy is {size} bytes, over the {MAX_POLICY_BYTES}-byte limit"
    if "bypasspolicylockoutsafetycheck" in text.lower():
        return "the policy mentions BypassPolicyLockoutSafetyCheck, which the tool never uses"
    bad = next((c for s in _strings(document) for c in s if not _allowed_char(c)), None)
    if bad is not None:
        return f"the policy contains the character U+{ord(bad):04X}, which KMS does not accept"
    return None
