"""The embedded local AWS: a separate process on 127.0.0.1, always stopped."""

from __future__ import annotations

import os

import pytest

from remediator.localaws import DEFAULT_ACCOUNT, LocalAws, moto_server

pytestmark = pytest.mark.integration


def test_server_answers_on_loopback_and_is_stopped() -> None:
    with moto_server() as aws:
        assert aws.endpoint_url.startswith("http://127.0.0.1:")
        assert aws.pid != os.getpid()
        assert aws.client("sts").get_caller_identity()["Account"] == DEFAULT_ACCOUNT
        pid = aws.pid
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_server_is_stopped_when_the_body_raises() -> None:
    with pytest.raises(RuntimeError), moto_server() as aws:
        pid = aws.pid
        raise RuntimeError("boom")
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_reset_forgets_resources(local_aws: LocalAws) -> None:
    kms = local_aws.client("kms")
    kms.create_key()
    local_aws.reset()
    assert kms.list_keys()["Keys"] == []


def test_fake_credentials_are_not_put_in_the_environment(local_aws: LocalAws) -> None:
    local_aws.client("sts")
    assert "AKIALOCALAWSFAKE0001" not in os.environ.values()
