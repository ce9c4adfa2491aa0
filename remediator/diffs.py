"""Differences between two policies: structured (deepdiff) for machines, unified for people."""

from __future__ import annotations

import difflib
import json
from typing import Any

from deepdiff import DeepDiff


def structured_diff(before: Any, after: Any) -> list[dict[str, Any]]:
    """One entry per changed path: ``{"change", "path", "old"?, "new"?}``, JSON-able."""
    diff = DeepDiff(before, after, ignore_order=False, verbose_level=2, view="tree")
    out: list[dict[str, Any]] = []
    for change, items in diff.items():
        for item in items:
            entry: dict[str, Any] = {"change": change, "path": item.path()}
            if change not in ("dictionary_item_added", "iterable_item_added"):
                entry["old"] = item.t1
            if change not in ("dictionary_item_removed", "iterable_item_removed"):
                entry["new"] = item.t2
            out.append(json.loads(json.dumps(entry, default=str)))
    return sorted(out, key=lambda e: (e["path"], e["change"]))


def unified_diff(before: Any, after: Any, name: str = "key-policy") -> list[str]:
    """A unified diff of the two policies as pretty JSON with sorted keys."""
    a = json.dumps(before, indent=2, sort_keys=True).splitlines()
    b = json.dumps(after, indent=2, sort_keys=True).splitlines()
    return list(difflib.unified_diff(a, b, f"{name} (before)", f"{name} (after)", lineterm=""))
