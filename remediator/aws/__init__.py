"""The AWS edge: sessions and assume-role, rate-limited concurrent inventory, S3 backups."""
