"""The real server as a subprocess on a free loopback port, stopped whatever happens."""

from __future__ import annotations

import asyncio
import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the load never leaves the machine


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    tasks = Path(f"/proc/{pid}/task")
    try:
        for task in tasks.iterdir():
            text = (task / "children").read_text().split()
            found += [int(c) for c in text]
    except OSError:
        pass
    return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of one process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


class ServerProcess:
    """A server the bench runs as a child process: its log, its CPU, its stop.
    Subclasses set `log` (a temporary file) and `process` when they spawn."""

    log: Any
    process: subprocess.Popen[bytes] | None
    env: dict[str, str]

    @property
    def command(self) -> list[str]:
        raise NotImplementedError

    def spawn(self, cwd: Path) -> subprocess.Popen[bytes]:
        self.process = subprocess.Popen(
            self.command,
            cwd=cwd,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us; we stop the child
        )
        atexit.register(self.stop)
        return self.process

    async def run_until_ready(
        self,
        cwd: Path,
        ready: Callable[[httpx.AsyncClient], Awaitable[bool]],
        ready_within: float,
        what: str,
    ) -> None:
        """Spawn `self.command` in `cwd` and wait until `ready` says so."""
        process = self.spawn(cwd)
        deadline = time.monotonic() + ready_within
        async with httpx.AsyncClient(trust_env=False, timeout=5.0) as client:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"The {what} exited with {process.returncode}:\n"
                        + self.log_tail()
                    )
                try:
                    if await ready(client):
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise RuntimeError(
            f"The {what} was not ready within {ready_within:.0f} s:\n" + self.log_tail()
        )

    def log_tail(self, lines: int = 30) -> str:
        self.log.flush()
        text = Path(self.log.name).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """CPU used so far by the server process and its workers."""
        if self.process is None:
            return 0.0
        pid = self.process.pid
        return _cpu_seconds(pid) + sum(_cpu_seconds(c) for c in _children(pid))

    def stop(self) -> Path | None:
        """Stop the server; the path of its log when it wrote anything."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)  # this one process, by its id
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        if not self.log.closed:
            self.log.close()
            log = Path(self.log.name)
            if log.exists() and log.stat().st_size == 0:
                log.unlink()
        log = Path(self.log.name)
        return log if log.exists() else None


class Server(ServerProcess):
    """`uvicorn api.asgi:app` as deployed: production settings, warnings only."""

    def __init__(
        self, database_url: str, secret: str, *, workers: int = 1, label: str = "Mutual"
    ) -> None:
        self.label = label
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.workers = workers
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop)
            prefix="mutual-bench-server-", suffix=".log", delete=False
        )
        self.env = {
            **os.environ,
            "MUTUAL_DATABASE_URL": database_url,
            "MUTUAL_SECRET_KEY": secret,
            "MUTUAL_ENVIRONMENT": "production",
            "MUTUAL_LOG_LEVEL": "warning",
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "api.asgi:app",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ]

    async def start(self, ready_within: float = 60.0) -> None:
        """Spawn the server and wait until /readyz says the database is there."""

        async def ready(client: httpx.AsyncClient) -> bool:
            return (await client.get(f"{self.url}/readyz")).status_code == 200

        await self.run_until_ready(ROOT, ready, ready_within, "server")
