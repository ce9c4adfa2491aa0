# kms-remediator: slim Python base, non-root user, entrypoint `remediator`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    KMS_REMEDIATOR_PLAYBOOKS=/opt/kms-remediator/playbooks

WORKDIR /opt/kms-remediator
COPY pyproject.toml README.md ./
COPY remediator ./remediator
COPY playbooks ./playbooks
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 remediator

USER remediator
WORKDIR /home/remediator
ENTRYPOINT ["remediator"]
CMD ["--help"]
