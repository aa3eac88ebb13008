"""A statement under way on a PostgreSQL server that vanished from the network (no FIN, no
RST: a failover whose old primary is unplugged, a firewall dropping the packets), when the
process is asked to stop (storage.pg.stop_waiting, from SIGTERM's handler)."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from mailserver import free_port
from netns import TestNetwork
from pgserver import running_server

pytest.importorskip("psycopg", reason="pip install -e '.[test]' brings it")

#: The statements of the process in the machine: one after another until one fails, which
#: it says (and how long after the stop signal it failed).
STATEMENTS = """
import signal, sys, time
import storage.pg as pg

db = pg.PgDatabase(pg.connect(sys.argv[1]))
asked: list[float] = []

def stop(signum, frame):
    asked.append(time.monotonic())
    pg.stop_waiting()

signal.signal(signal.SIGTERM, stop)
print("ready", flush=True)
while True:
    try:
        db.execute("SELECT pg_sleep(0.05)")
    except Exception as exc:
        took = time.monotonic() - asked[0] if asked else -1.0
        print(f"failed {took:.1f} {type(exc).__name__}", flush=True)
        break
"""

#: How soon after the stop signal the statement must end: CANCEL_SECONDS (2 s) and room for
#: a loaded machine; the kernel's silence limits (storage.pg.SILENCE_LIMITS) give 30 s.
ENDED_WITHIN = 12.0


@pytest.mark.timeout(120)
def test_a_stop_ends_the_statement_waiting_on_a_vanished_server(
    test_network: TestNetwork,
) -> None:
    """The stop's cancel request cannot reach a vanished server (its connection attempt
    fails or times out): the statement is abandoned there and then, as the process's end
    would abandon it. It waited on for the kernel's 30 s, the event loop with it: a role
    stopped so (the whole cluster's machine unplugged, systemd stopping it) spent half of
    its TimeoutStopSec before its stop began, and was killed."""
    with running_server(listen=test_network.address, port=free_port(),
                        clients=str(test_network.subnet)) as server:
        database = server.create_database()
        machine = test_network.machine()
        process = machine.python("-c", STATEMENTS, server.tcp_conninfo(database),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert process.stdout is not None
        try:
            assert process.stdout.readline().strip() == "ready"
            machine.disappear()
            time.sleep(1)  # a statement under way, its answer never coming
            assert process.poll() is None
            process.send_signal(signal.SIGTERM)
            out, _ = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        word, took, error = out.split("\n")[0].split(" ", 2)
        assert word == "failed", out
        assert 0 <= float(took) < ENDED_WITHIN, out
        assert error == "AbandonedAtStop", out  # the stop's doing, not a database lost
