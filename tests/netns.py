"""Test machines: network namespaces on veth pairs (pytest plugin, loaded by conftest.py).

``test_network`` (per test) gives a private LAN on this machine: a bridge on the host with one
address (``network.address``, where a test binds the servers its machines reach: the news
site, PostgreSQL over TCP), and ``network.machine()`` adds a "machine" — a network namespace
whose veth pair is plugged into that bridge, with an address of its own and no route anywhere
else. ``machine.popen([...])`` runs a process inside it (``ip netns exec``);
``machine.disappear()`` unplugs it (its veth pair is deleted: its processes go on running but
nothing they send arrives, and nothing is sent to them — a machine that vanished from the
network); everything is removed after the test, processes in the namespaces included.

Addresses come from 198.18.0.0/15 (RFC 2544: set aside for benchmark tests, never routed), one
/24 per network, chosen under a lock file so that parallel runs on one machine never share
one. The tests' network guard (``tests/netguard``, pytest-socket) allows exactly the addresses
created here, in the test process and in the processes started in a machine, and only while
the network exists. Unix sockets are files, shared by every namespace: a process in a machine
must reach a server over TCP on ``network.address`` for ``disappear`` to cut it off.

Skipped, with the reason, where namespaces cannot be made (no ``ip``, or no permission).
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

NETGUARD = Path(__file__).parent / "netguard"
ROOT = Path(__file__).parent.parent
#: The test-host range (mirrors tests/netguard's TEST_HOSTS).
TEST_HOSTS = ipaddress.ip_network("198.18.0.0/15")
_LOCK = Path("/tmp/newswatch-netns.lock")


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30, check=False)
    if check and result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result


_probe_result: list[str | None] = []


def unavailable() -> str | None:
    """Why network namespaces cannot be made here, or None if they can (probed once)."""
    if not _probe_result:
        _probe_result.append(_probe())
    return _probe_result[0]


def _probe() -> str | None:
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    name = f"nwprobe{os.getpid()}"
    made = _ip("netns", "add", name, check=False)
    if made.returncode != 0:
        return f"network namespaces are not permitted here: {made.stderr.strip()}"
    try:
        bridge = _ip("link", "add", f"{name}b", "type", "bridge", check=False)
        if bridge.returncode != 0:
            return f"a bridge cannot be made here: {bridge.stderr.strip()}"
        _ip("link", "del", f"{name}b", check=False)
        veth = _ip("link", "add", f"{name}h", "type", "veth", "peer", "name", f"{name}n",
                   "netns", name, check=False)
        if veth.returncode != 0:
            return f"veth pairs cannot be made here: {veth.stderr.strip()}"
        _ip("link", "del", f"{name}h", check=False)
    finally:
        _ip("netns", "del", name, check=False)
    return None


_OURS = re.compile(r"nw(\d+)(?:[bhn]\d*|-\d+)$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale() -> None:
    """Remove the links and namespace names left by test runs that died (their pid is gone)
    before they could tear their network down, so that their addresses are free again."""
    links = [line.split(":")[1].strip().split("@")[0]
             for line in _ip("-o", "link", "show").stdout.splitlines()]
    names = [line.split()[0] for line in _ip("netns", "list").stdout.splitlines() if line]
    for kind, found in (("link", links), ("netns", names)):
        for name in found:
            match = _OURS.match(name)
            if match and not _alive(int(match.group(1))):
                _ip(kind, "del", name, check=False)


class Machine:
    """One test machine: a network namespace plugged into the test network's bridge."""

    def __init__(self, network: TestNetwork, index: int) -> None:
        self.network = network
        self.name = f"nw{os.getpid()}-{index}"
        self.address = str(network.subnet[index + 2])
        self._veth = f"nw{os.getpid()}h{index}"  # host end (interface names: <= 15 chars)
        peer = f"nw{os.getpid()}n{index}"
        self._processes: list[subprocess.Popen[Any]] = []
        _ip("netns", "add", self.name)
        try:
            _ip("link", "add", self._veth, "type", "veth", "peer", "name", peer, "netns", self.name)
            _ip("link", "set", self._veth, "master", network.bridge)
            _ip("link", "set", self._veth, "up")
            _ip("-n", self.name, "addr", "add", f"{self.address}/{network.subnet.prefixlen}",
                "dev", peer)
            _ip("-n", self.name, "link", "set", peer, "up")
            _ip("-n", self.name, "link", "set", "lo", "up")
        except RuntimeError:
            self.remove()
            raise

    @property
    def connected(self) -> bool:
        """Whether the machine is still plugged into the network."""
        return _ip("link", "show", self._veth, check=False).returncode == 0

    def env(self, **extra: str) -> dict[str, str]:
        """Environment for a Python process in this machine: the tests' network guard on its
        PYTHONPATH, allowing this network's addresses (and loopback) only."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSWATCH_")}
        env["PYTHONPATH"] = os.pathsep.join(
            [str(NETGUARD), str(ROOT), env.get("PYTHONPATH", "")]
        ).rstrip(os.pathsep)
        env["NETGUARD_ALLOW"] = ",".join(self.network.addresses)
        env["PYTHONUNBUFFERED"] = "1"
        env.update(extra)
        return env

    def popen(self, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[Any]:
        """Start ``argv`` inside this machine (``env`` defaults to ``self.env()``)."""
        kwargs.setdefault("env", self.env())
        process = subprocess.Popen(["ip", "netns", "exec", self.name, *argv], **kwargs)
        self._processes.append(process)
        return process

    def python(self, *args: str, **kwargs: Any) -> subprocess.Popen[Any]:
        """Start ``python ARGS`` inside this machine."""
        return self.popen([sys.executable, *args], **kwargs)

    def disappear(self) -> None:
        """Unplug the machine: its veth pair goes, both ends (nothing in or out any more)."""
        _ip("link", "del", self._veth, check=False)

    def remove(self) -> None:
        """Kill every process in the machine, unplug it and delete the namespace."""
        pids = _ip("netns", "pids", self.name, check=False).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        for process in self._processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
        self.disappear()
        _ip("netns", "del", self.name, check=False)


class TestNetwork:
    """A bridge on the host with a /24 of the test-host range, and the machines on it."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, guard: Callable[[list[str]], None]) -> None:
        self._guard = guard
        self.bridge = f"nw{os.getpid()}b"
        self.machines: list[Machine] = []
        self.host_addresses: list[str] = []  # more addresses of the host (host_address)
        with _LOCK.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # choose and claim a /24 atomically
            _remove_stale()
            self.subnet = self._free_subnet()
            self.address = str(self.subnet[1])
            _ip("link", "add", self.bridge, "type", "bridge")
            try:
                # An address of its own: by default a bridge takes the lowest of its ports'
                # addresses, and changes it when that port goes (a machine that vanishes);
                # the machines' ARP entries for the host's other addresses would then point
                # nowhere until they expire (seen: a site's feed timing out for a minute).
                pid = os.getpid()
                _ip("link", "set", self.bridge, "address",
                    f"02:6e:77:{pid >> 16 & 0xFF:02x}:{pid >> 8 & 0xFF:02x}:{pid & 0xFF:02x}")
                _ip("addr", "add", f"{self.address}/{self.subnet.prefixlen}", "dev", self.bridge)
                _ip("link", "set", self.bridge, "up")
            except RuntimeError:
                _ip("link", "del", self.bridge, check=False)
                raise
        self._guard(self.addresses)

    @staticmethod
    def _free_subnet() -> ipaddress.IPv4Network:
        used = set()
        for line in _ip("-o", "-4", "addr", "show").stdout.splitlines():
            address = ipaddress.ip_interface(line.split()[3])
            if address.ip in TEST_HOSTS:
                used.add(ipaddress.ip_network(f"{address.ip}/24", strict=False))
        for subnet in TEST_HOSTS.subnets(new_prefix=24):
            if subnet not in used:
                return subnet
        raise RuntimeError(f"every /24 of {TEST_HOSTS} is in use")

    @property
    def addresses(self) -> list[str]:
        """Every address this network created: the host's and each machine's."""
        return [self.address, *self.host_addresses, *(m.address for m in self.machines)]

    def host_address(self) -> str:
        """Another address of the host on the bridge (from the top of the subnet), for a
        server that the machines must see as a host of its own (another web site)."""
        if len(self.machines) + len(self.host_addresses) >= 250:
            raise RuntimeError("a test network holds at most 250 machines and addresses")
        address = str(self.subnet[-2 - len(self.host_addresses)])
        _ip("addr", "add", f"{address}/{self.subnet.prefixlen}", "dev", self.bridge)
        self.host_addresses.append(address)
        self._guard(self.addresses)
        return address

    def machine(self) -> Machine:
        """A new machine on this network."""
        if len(self.machines) + len(self.host_addresses) >= 250:
            raise RuntimeError("a test network holds at most 250 machines and addresses")
        created = Machine(self, len(self.machines))
        self.machines.append(created)
        self._guard(self.addresses)
        return created

    def close(self) -> None:
        """Remove every machine and the bridge."""
        for machine in self.machines:
            machine.remove()
        _ip("link", "del", self.bridge, check=False)


@pytest.fixture
def test_network(request: pytest.FixtureRequest) -> Iterator[TestNetwork]:
    """A private network of test machines (namespaces), removed after the test."""
    reason = unavailable()
    if reason is not None:
        pytest.skip(reason)
    import pytest_socket
    import sitecustomize  # tests/netguard's, installed by conftest.py

    loopback = request.config.getoption("--allow-hosts") or ""

    def guard(addresses: list[str]) -> None:
        sitecustomize.allow_test_hosts(addresses)
        if not loopback:
            return  # pytest-socket restricts nothing in this run
        pytest_socket.socket_allow_hosts(
            [*loopback.split(","), *addresses],
            allow_unix_socket=request.config.getoption("--allow-unix-socket"),
        )

    network = TestNetwork(guard)
    try:
        yield network
    finally:
        network.close()
        guard([])
