"""Reading and rebuilding key policy documents for patch operations.

Each operation is a pure function ``(document, finding, context, params) -> document | None``:
it returns a new document (None when it does not apply to that finding) and never mutates its
input. Statements it does not need to touch are the very same objects, in the same order, so
they serialise byte for byte as before. Statements the tool adds carry the Sid prefix
``KmsRemediator`` so that a reviewer (and the tool itself) can recognise them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from remediator.policy.principals import parse_aws_principal, root_arn
from remediator.types import Context, Finding

SID_PREFIX = "KmsRemediator"
Document = dict[str, Any]
PatchFn = Callable[[Document, Finding, Context, Mapping[str, Any]], Document | None]


# --- document access, case-insensitive on element names --------------------------------


def field_name(obj: Mapping[str, Any], name: str) -> str | None:
    """The element name as written in ``obj`` (IAM element names may be in any case here)."""
    if name in obj:
        return name
    low = name.lower()
    return next((k for k in obj if k.lower() == low), None)


def get_field(obj: Mapping[str, Any], name: str) -> Any:
    k = field_name(obj, name)
    return None if k is None else obj[k]


def statements_of(doc: Mapping[str, Any]) -> list[Any]:
    stmts = get_field(doc, "Statement")
    return [stmts] if isinstance(stmts, Mapping) else list(stmts or [])


def statement_at(doc: Mapping[str, Any], finding: Finding) -> tuple[int, Mapping[str, Any]]:
    """The index and statement a finding addresses, for an operation that patches one statement.

    ValueError (the planner's "this strategy does not apply") when the finding names no
    statement, an index outside the document (a negative one too: it would silently address
    a statement counted from the end), or a statement that is not a JSON object; never
    IndexError or TypeError.
    """
    index, stmts = finding.statement, statements_of(doc)
    if index is None:
        raise ValueError(f"the {finding.rule} finding names no statement to patch")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(stmts):
        raise ValueError(
            f"the {finding.rule} finding names statement {index!r}, but the policy has "
            f"{len(stmts)} statement(s)"
        )
    stmt = stmts[index]
    if not isinstance(stmt, Mapping):
        raise ValueError(f"statement {index} of the policy is not a JSON object")
    return index, stmt


def with_statements(doc: Mapping[str, Any], stmts: list[Any]) -> Document:
    """A copy of ``doc`` with new statements, keeping the single-object form when it still fits."""
    out = dict(doc)
    key = field_name(doc, "Statement") or "Statement"
    was_object = isinstance(doc.get(key), Mapping)
    out[key] = stmts[0] if was_object and len(stmts) == 1 else stmts
    return out


def replace_statement(doc: Mapping[str, Any], index: int, new: Any | None) -> Document:
    """Swap (or, with None, drop) one statement; the others stay the same objects."""
    stmts = statements_of(doc)
    if new is None:
        del stmts[index]
    else:
        stmts[index] = new
    return with_statements(doc, stmts)


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def shaped_like(original: Any, values: list[Any]) -> Any:
    """A one-element list stays a list if it was one; a single value stays a string."""
    if len(values) == 1 and not isinstance(original, list):
        return values[0]
    return values


def next_sid(doc: Mapping[str, Any], name: str) -> str:
    """A Sid for a statement the tool adds, unlike every Sid in ``doc``.

    A Sid as written may be any JSON value (a list or an object is unhashable); only a string
    can equal the one made here, so only strings count as taken.
    """
    sids = (get_field(s, "Sid") for s in statements_of(doc) if isinstance(s, Mapping))
    taken = {sid for sid in sids if isinstance(sid, str)}
    sid, n = f"{SID_PREFIX}{name}", 2
    while sid in taken:
        sid, n = f"{SID_PREFIX}{name}{n}", n + 1
    return sid


# Spellings with the same meaning for a single-valued key that is present: when the key is
# already used under one (a JSON object cannot hold it twice), the next one carries the new
# condition, which is then ANDed with the old one as it should be.
_EQUIVALENT = {"StringEquals": ("StringEquals", "ForAnyValue:StringEquals", "StringLike",
                                "ForAnyValue:StringLike")}


def add_condition(stmt: Mapping[str, Any], operator: str, key: str, values: list[str]) -> Document:
    """A copy of ``stmt`` with one more condition (ANDed with the ones it has)."""
    new = dict(stmt)
    cname = field_name(stmt, "Condition") or "Condition"
    cond = copy.deepcopy(dict(stmt.get(cname) or {}))
    for op in _EQUIVALENT.get(operator, (operator,)):
        block = dict(cond.get(op) or {})
        if field_name(block, key) is None:
            block[key] = values[0] if len(values) == 1 else values
            cond[op] = block
            new[cname] = cond
            return new
    raise ValueError(f"cannot add a {operator} condition on {key}: every spelling is taken")


def trusted_caller_accounts(ctx: Context) -> list[str]:
    return [ctx.owner_account, *sorted(ctx.trusted_accounts - {ctx.owner_account})]


def partition_of(doc: Mapping[str, Any]) -> str:
    for s in statements_of(doc):
        for v in as_list((get_field(s, "Principal") or {}).get("AWS", []) if isinstance(
                get_field(s, "Principal"), Mapping) else []):
            if isinstance(v, str) and v.startswith("arn:"):
                return v.split(":")[1]
    return "aws"


@dataclass(frozen=True, slots=True)
class Operation:
    """A patch operation as playbooks name it: its parameters and the AWS permissions it needs."""

    name: str
    fn: PatchFn
    params: frozenset[str] = frozenset()
    permissions: tuple[str, ...] = ("kms:GetKeyPolicy", "kms:PutKeyPolicy")
    summary: str = ""


def account_root(ctx: Context, doc: Mapping[str, Any]) -> str:
    """The owner root's ARN, in the key's partition (or, when the context does not know it,
    the partition the policy's principals are written in)."""
    partition = ctx.partition if ctx.key_arn is not None or ctx.partition != "aws" else None
    return root_arn(ctx.owner_account, partition or partition_of(doc))


def principal_account(value: str) -> str | None:
    return parse_aws_principal(value).account

