"""One exception root for everything the tool refuses or fails at.

The CLI turns each class into an exit code and one clear sentence on stderr.
"""

from __future__ import annotations


class RemediatorError(Exception):
    """Root of every error the tool raises on purpose."""

    exit_code = 2


class BadInputError(RemediatorError):
    """The user gave input the tool cannot use (a file, an option, a config value)."""


class PolicyError(BadInputError):
    """A document is not a valid IAM/KMS policy; the message names the statement and field."""
