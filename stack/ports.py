"""Free TCP ports for private stacks (the test sessions, the bench, the fault lab)."""

from __future__ import annotations

import random
import socket
from pathlib import Path

_LOCAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def free_port() -> int:
    """A port free on 127.0.0.1 now, drawn from below the kernel's ephemeral range.

    Port 0 is answered from the ephemeral range, the one every outgoing connection draws from:
    with three test processes, a client socket took a stack's port in the minutes before its
    service bound it ("address already in use"). Below that range only servers bind. A port is
    never handed out twice by one process, as the first may not be bound yet."""
    low = _ephemeral_low()
    if low > 11_000:
        dice = random.Random()
        for _ in range(200):
            port = dice.randrange(10_000, low)
            if port not in _handed_out and _bindable(port):
                _handed_out.add(port)
                return port
    with socket.socket() as sock:  # no room below the range: let the kernel choose
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ephemeral_low() -> int:
    try:
        return int(_LOCAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True
