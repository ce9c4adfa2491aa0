"""The embedded local AWS: a moto server in its own process on a free 127.0.0.1 port.

Tests and ``remediator demo`` reach it through ``endpoint_url`` exactly as they would reach AWS.
A separate process (not a thread) so a test can kill a client process mid-run and the server,
with the state it holds, lives on. The fake credentials below are given only to the sessions
this module builds; nothing is read from or written to ``~/.aws`` or the environment.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Any

import boto3
import structlog
from botocore.config import Config as BotoConfig

from remediator.errors import RemediatorError

log = structlog.get_logger(__name__)

HOST = "127.0.0.1"
FAKE_ACCESS_KEY = "AKIALOCALAWSFAKE0001"  # moto accepts any key; this one is obviously fake
FAKE_SECRET_KEY = "local-aws-fake-secret"
# The environment under which boto3's default credential chain finds the fake static
# credentials and reads nothing from ~/.aws or the instance metadata (the demo's process, the
# tests' base sessions), and what must not be set beside it.
LOCAL_CREDENTIALS_ENV = {
    "AWS_ACCESS_KEY_ID": FAKE_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": FAKE_SECRET_KEY,
    "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
LOCAL_CREDENTIALS_UNSET = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL")
DEFAULT_ACCOUNT = "123456789012"  # the account moto gives the fake credentials


class LocalAwsError(RemediatorError):
    """The local moto server could not be started."""


@dataclass(frozen=True, slots=True)
class LocalAws:
    """A running local AWS: its endpoint and sessions on fake static credentials."""

    endpoint_url: str
    pid: int

    def session(self, region: str = "eu-west-1") -> boto3.Session:
        """A session with fake static credentials, for this endpoint only."""
        return boto3.Session(
            aws_access_key_id=FAKE_ACCESS_KEY,
            aws_secret_access_key=FAKE_SECRET_KEY,
            region_name=region,
        )

    def client(self, service: str, region: str = "eu-west-1") -> Any:
        """A client of the default account (123456789012) on this endpoint, with botocore's
        retries off like every client of the tool (``remediator.aws.retry`` decides)."""
        config = BotoConfig(retries={"mode": "standard", "total_max_attempts": 1})
        return self.session(region).client(service, endpoint_url=self.endpoint_url, config=config)

    def reset(self) -> None:
        """Forget every resource in every account (moto's reset API)."""
        request = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server(port: int | None = None, start_timeout: float = 20.0) -> Iterator[LocalAws]:
    """Start ``python -m moto.server`` on 127.0.0.1, wait until it answers, and always stop it.

    Without ``port`` a free one is chosen; if another process takes it first, a new one is tried.
    """
    with tempfile.TemporaryFile(prefix="moto-server-", suffix=".log") as output:
        process, endpoint = _start(port, output, start_timeout)
        try:
            log.info("localaws.started", endpoint=endpoint, pid=process.pid)
            yield LocalAws(endpoint_url=endpoint, pid=process.pid)
        finally:
            _stop(process)
            log.info("localaws.stopped", pid=process.pid, returncode=process.returncode)


def _start(
    port: int | None, output: IO[bytes], timeout: float
) -> tuple[subprocess.Popen[bytes], str]:
    attempts = 1 if port else 3
    for attempt in range(1, attempts + 1):
        chosen = port or free_port()
        process = _spawn(chosen, output)
        endpoint = f"http://{HOST}:{chosen}"
        try:
            _wait_ready(endpoint, process, output, timeout)
            return process, endpoint
        except LocalAwsError:
            _stop(process)
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def _spawn(port: int, output: IO[bytes]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["MOTO_PORT"] = str(port)
    return subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # a Ctrl-C in the terminal goes to us; we stop it ourselves
    )


def _wait_ready(
    endpoint: str, process: subprocess.Popen[bytes], output: IO[bytes], timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalAwsError(
                f"The local moto server exited with code {process.returncode} before answering: "
                f"{_tail(output)}"
            )
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=1):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    raise LocalAwsError(f"The local moto server did not answer on {endpoint} within {timeout}s.")


def _tail(output: IO[bytes]) -> str:
    output.seek(0)
    text = output.read().decode("utf-8", "replace").strip()
    return text[-500:] or "(no output)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL when it has not gone within five seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
