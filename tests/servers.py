"""Starting real servers (gunicorn, moto) from tests: a free port, and waiting until they answer."""

import socket
import subprocess
import time
import urllib.request


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_answering(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    """Poll `url` until it answers; fail if `process` exits or the time runs out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"nothing answered at {url}") from None
            time.sleep(0.2)
