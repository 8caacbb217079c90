"""Test hosts on one machine: network namespaces joined to the host by veth pairs on a bridge.

A process started with :func:`in_namespace` has its own network stack: its 127.0.0.1 is its own,
so it reaches the servers only at the bridge's address (services bind there), like a worker on
another machine reaches them over the network. Needs root and iproute2 (`ip netns`); every
namespace, link and bridge made here is removed on exit, even when the block fails.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class TestHost:
    namespace: str
    address: str


@dataclass(frozen=True)
class Network:
    gateway: str  # the host side: servers bind here
    hosts: tuple[TestHost, ...]


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if shutil.which("ip") is None:
        return "iproute2 (`ip`) is not installed"
    if os.geteuid() != 0:
        return "network namespaces need root"
    return None


def ip(*args: str, check: bool = True) -> None:
    proc = subprocess.run(["ip", *args], capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)} failed: {proc.stderr.strip()}")


def in_namespace(namespace: str, cmd: list[str]) -> list[str]:
    return ["ip", "netns", "exec", namespace, *cmd]


@contextlib.contextmanager
def test_hosts(count: int) -> Iterator[Network]:
    """``count`` namespaces on a fresh bridge in a random 10.200-254.x.0/24 subnet."""
    tag = f"{os.getpid() % 10000}{random.randrange(100)}"
    subnet = f"10.{random.randrange(200, 255)}.{random.randrange(1, 255)}"
    bridge, made = f"nab{tag}", []
    try:
        ip("link", "add", bridge, "type", "bridge")
        ip("addr", "add", f"{subnet}.1/24", "dev", bridge)
        ip("link", "set", bridge, "up")
        hosts = []
        for i in range(count):
            namespace, outside, inside = f"na{tag}w{i}", f"na{tag}h{i}", f"na{tag}p{i}"
            ip("netns", "add", namespace)
            made.append(namespace)
            ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            ip("link", "set", inside, "netns", namespace)
            ip("link", "set", outside, "master", bridge)
            ip("link", "set", outside, "up")
            address = f"{subnet}.{10 + i}"
            ip("-n", namespace, "addr", "add", f"{address}/24", "dev", inside)
            ip("-n", namespace, "link", "set", inside, "up")
            ip("-n", namespace, "link", "set", "lo", "up")
            hosts.append(TestHost(namespace, address))
        yield Network(f"{subnet}.1", tuple(hosts))
    finally:
        for namespace in made:  # removing a namespace removes its end of the veth pair, and so both ends
            ip("netns", "del", namespace, check=False)
        ip("link", "del", bridge, check=False)
