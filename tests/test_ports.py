"""Ports for private stacks come from below the ephemeral range, free, and never twice."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from stack import ports

pytestmark = pytest.mark.unit


def test_ports_are_free_distinct_and_below_the_ephemeral_range() -> None:
    low = ports._ephemeral_low()
    given = [ports.free_port() for _ in range(100)]
    assert len(set(given)) == 100
    assert all(10_000 <= port < low for port in given), (low, given)
    assert all(ports._bindable(port) for port in given)


class _Scripted:
    """Draws the listed ports in order (instead of random ones)."""

    def __init__(self, draws: list[int]) -> None:
        self.draws: Iterator[int] = iter(draws)

    def randrange(self, start: int, stop: int) -> int:
        return next(self.draws)


def test_a_bound_port_and_one_handed_out_before_are_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Ports free now, below the range: fixed numbers were sometimes held by the other test
    # process's stack ("address already in use" before the test began).
    taken, handed, free = (ports.free_port() for _ in range(3))
    monkeypatch.setattr(ports, "_ephemeral_low", lambda: 32768)
    monkeypatch.setattr(ports, "_handed_out", {handed})
    monkeypatch.setattr(ports.random, "Random", lambda: _Scripted([taken, handed, free]))
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", taken))
        assert ports.free_port() == free
    assert ports._handed_out == {handed, free}


def test_without_room_below_the_range_the_kernel_chooses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "_ephemeral_low", lambda: 11_000)
    monkeypatch.setattr(ports.random, "Random", lambda: pytest.fail("drew below the range"))
    assert ports.free_port() >= 1024
