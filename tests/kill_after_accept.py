"""A process killed right after the mail server accepted a message, while its event loop was
busy with other work (a crawl's matching): tests/test_alerts.py.

    python tests/kill_after_accept.py DATABASE SMTP_PORT

Sends the database's due outbox messages to the SMTP server on 127.0.0.1:SMTP_PORT, with
another task holding the event loop from the moment the server accepts the first one: the
process is killed (``os._exit``) 0.5 s later, before the loop could record anything.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alerts.deliver import RetryPolicy, deliver_due  # the project root is on PYTHONPATH
from alerts.transport import SmtpSettings, SmtpTransport
from storage import open_store
from storage.journal import SentJournal


class Accepting(SmtpTransport):
    """The SMTP transport, sending once the event loop is held (``holding``) and saying when
    the server has accepted the message (``accepted``)."""

    started = threading.Event()
    holding = threading.Event()
    accepted = threading.Event()

    def send(self, message: Any) -> None:
        self.started.set()
        self.holding.wait()
        super().send(message)
        self.accepted.set()


async def main(database: Path, port: int) -> None:
    store = open_store(database)
    store.journal = SentJournal(database.parent / "newswatch.sent")
    transport = Accepting(SmtpSettings(host="127.0.0.1", port=port, sender="a@newswatch.test",
                                       timeout=10.0))

    async def busy() -> None:
        while not Accepting.started.is_set():
            await asyncio.sleep(0.001)
        # From here the loop is held (a crawl's matching): only the sending thread works.
        Accepting.holding.set()
        Accepting.accepted.wait()
        time.sleep(0.5)
        os._exit(9)  # as kill -9

    holding = asyncio.ensure_future(busy())
    await deliver_due(store, transport, now=datetime.now(UTC), policy=RetryPolicy())
    await holding


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
