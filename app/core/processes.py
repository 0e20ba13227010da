"""Stopping a process a command started: asked first (SIGTERM, so it can clean up), then killed."""

import subprocess
from typing import Any


def stop_process(process: "subprocess.Popen[Any]", timeout: float) -> None:
    """SIGTERM `process` if it runs, wait up to `timeout` seconds, then SIGKILL it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
