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


class RunRecordError(BackupError):
    """The run record could not be saved. Before the first key, the run is refused; after it,
    apply and rollback stop at once (DESIGN.md rule 6: never change a key the record cannot
    describe) and report the run id, the outcomes so far and the keys they changed."""


class TargetAccessError(RemediatorError):
    """A target account could not be reached: assume-role, Organizations or caller identity."""


class RefusedError(RemediatorError):
    """apply or rollback refused to start (an unapproved plan, a plan that does not match its
    digest); nothing was changed."""


class UnknownRunError(BadInputError):
    """A run id (or a key of a run) that the backup store does not know."""


class KeyFailedError(RemediatorError):
    """One key of an apply or rollback could not be processed (its backup could not be
    written, its policy could not be read as JSON); that key is recorded as failed with this
    reason and the run goes on with the others."""

    exit_code = 3
