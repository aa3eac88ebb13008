"""The test machines (tests/netns.py): a process in a network namespace reaches the test web
on the host through its veth pair, a machine that disappears reaches nothing any more, and the
network guard lets through exactly the addresses the harness made."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
import pytest_socket
from conftest import subprocess_env
from netns import TestNetwork
from newssite import NewsSite

#: A fetcher inside a machine: one URL per input line, one result line per URL.
FETCHER = """
import sys, urllib.request
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
for line in sys.stdin:
    try:
        with opener.open(line.strip(), timeout=20) as response:
            print("ok", response.status, len(response.read()), flush=True)
    except Exception as exc:
        print("error", type(exc).__name__, exc, flush=True)
"""

#: A TCP server inside a machine: prints its port, answers each connection with "hello".
SERVER = """
import socket, sys
listener = socket.create_server((sys.argv[1], 0))
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    conn.sendall(b"hello")
    conn.close()
"""


def ask(process: subprocess.Popen[str], line: str) -> str:
    """Send one line to ``process`` and read its one-line answer."""
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(line + "\n")
    process.stdin.flush()
    return process.stdout.readline().strip()


def test_machine_fetches_from_the_host_until_it_disappears(test_network: TestNetwork) -> None:
    site = NewsSite()
    site.host = test_network.address  # the host's end of the machines' network
    with site:
        machine = test_network.machine()
        fetcher = machine.python("-c", FETCHER, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 text=True)
        url = site.url("/feeds/world.rss")
        assert ask(fetcher, url).startswith("ok 200 ")
        hits = [r for r in site.requests if r.path == "/feeds/world.rss"]
        assert len(hits) == 1

        machine.disappear()
        assert not machine.connected
        answer = ask(fetcher, url)
        assert answer.startswith("error "), answer
        assert "unreachable" in answer.lower()
        assert len([r for r in site.requests if r.path == "/feeds/world.rss"]) == 1
        assert fetcher.poll() is None  # the process lives on: only its network is gone


def test_each_machine_has_its_own_address_on_one_network(test_network: TestNetwork) -> None:
    first, second = test_network.machine(), test_network.machine()
    assert len({test_network.address, first.address, second.address}) == 3
    assert all(a in test_network.subnet for a in map(__import__("ipaddress").ip_address,
                                                     test_network.addresses))
    shown = subprocess.run(["ip", "netns", "exec", second.name, "ip", "-o", "-4", "addr"],
                           capture_output=True, text=True, timeout=30, check=True).stdout
    assert second.address in shown and first.address not in shown
    assert "127.0.0.1" in shown  # its own loopback, not the host's


def test_test_process_reaches_a_machine_until_it_disappears(test_network: TestNetwork) -> None:
    machine = test_network.machine()
    server = machine.python("-c", SERVER, machine.address, stdout=subprocess.PIPE, text=True)
    assert server.stdout is not None
    port = int(server.stdout.readline())
    with socket.create_connection((machine.address, port), timeout=20) as conn:
        assert conn.recv(16) == b"hello"
    machine.disappear()
    with pytest.raises(OSError):
        socket.create_connection((machine.address, port), timeout=5)


def test_guard_allows_only_the_addresses_the_harness_made(test_network: TestNetwork) -> None:
    machine = test_network.machine()
    unmade = str(test_network.subnet[200])  # in the range, but no machine has it
    # The test process: pytest-socket refuses before any packet is sent.
    with (pytest.warns(UserWarning, match=unmade),
          pytest.raises(pytest_socket.SocketConnectBlockedError)):
        socket.create_connection((unmade, 80), timeout=5)
    # A process in a machine: the netguard refuses it there too.
    probe = machine.python(
        "-c",
        "import socket, sys\n"
        "try:\n"
        "    socket.create_connection((sys.argv[1], 80), timeout=5)\n"
        "except ConnectionRefusedError as exc:\n"
        "    print('refused', exc)\n",
        unmade, stdout=subprocess.PIPE, text=True,
    )
    out, _ = probe.communicate(timeout=60)
    assert out.startswith("refused") and "test hosts" in out


def test_guard_never_allows_an_address_outside_the_test_host_range() -> None:
    """However NETGUARD_ALLOW is set, an address outside 198.18.0.0/15 is refused."""
    code = "import socket; socket.create_connection(('203.0.113.7', 80), timeout=1)"
    env = {**subprocess_env(), "NETGUARD_ALLOW": "203.0.113.7"}  # TEST-NET-3
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, timeout=30, check=False)
    assert "NETGUARD_ALLOW ignored" in result.stderr
    assert "ConnectionRefusedError: tests may only connect to loopback" in result.stderr
