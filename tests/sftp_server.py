"""A real SFTP server for the delivery tests: asyncssh on 127.0.0.1, one user with a password.

It runs in an event loop of its own thread, chrooted to a folder, so a test (or an
Airflow task in another process) delivers to it over TCP as to the Inspectorate's server.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncssh

SFTP_USER, SFTP_PASSWORD = "thanhtra", "s3cret-for-tests"


class PasswordServer(asyncssh.SSHServer):
    """One user (`SFTP_USER`) with a password (`SFTP_PASSWORD`)."""

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == SFTP_USER and password == SFTP_PASSWORD


@dataclass
class RunningSftp:
    server: Any
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread

    @property
    def port(self) -> int:
        return self.server.get_port()

    def stop(self) -> None:
        self.server.close()
        asyncio.run_coroutine_threadsafe(self.server.wait_closed(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def start_sftp(root: Path, port: int, key: Any) -> RunningSftp:
    """An SFTP server on 127.0.0.1:`port` (0: any free port) chrooted to `root`, with host key `key`."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    async def start() -> Any:
        return await asyncssh.listen(
            "127.0.0.1",
            port,
            server_host_keys=[key],
            server_factory=PasswordServer,
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=str(root).encode()),
        )

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    return RunningSftp(server, loop, thread)
