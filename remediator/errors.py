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


class BackupError(RemediatorError):
    """The S3 backup store refused to start, or a backup could not be written and verified."""


class TargetAccessError(RemediatorError):
    """A target account could not be reached: assume-role, Organizations or caller identity."""
