"""kms-remediator: find exposed AWS KMS keys, propose minimal proven patches, apply, roll back."""

__version__ = "0.1.0"
