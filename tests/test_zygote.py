"""The zygote (tests/zygote.py) that forks the tests' ``newswatch`` processes: a forked
command must behave as ``python -m newswatch`` started from scratch does — its exit code, its
two streams, its working directory and environment, its signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import Workdir, newswatch_process, run_newswatch, subprocess_env
from netns import TestNetwork
from newssite import NewsSite


def from_scratch(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newswatch", *argv], cwd=cwd,
                          env=subprocess_env(**env), capture_output=True, text=True,
                          timeout=60, check=False)


@pytest.mark.parametrize("config", [
    "[crawl]\nbogus = 1\n",                       # a config error: exit 2, one line
    "[database]\npath = \"sub/none/x.db\"\n",     # a database that cannot be opened: exit 1
    "[[sources]]\nurl = \"http://127.0.0.1:9/\"\n",  # a crawl that runs: exit 0, a report
])
def test_a_forked_crawl_answers_as_a_fresh_process(tmp_path: Path, config: str) -> None:
    (tmp_path / "newswatch.toml").write_text(config, encoding="utf-8")
    argv = ["--config", "newswatch.toml", "crawl"]
    forked = run_newswatch(argv, tmp_path, subprocess_env(), timeout=60)
    fresh = from_scratch(argv, tmp_path)
    assert forked.returncode == fresh.returncode
    assert forked.stderr.splitlines()[:1] == fresh.stderr.splitlines()[:1]
    assert [line.split(" in ")[0] for line in forked.stdout.splitlines() if "cpu" not in line] \
        == [line.split(" in ")[0] for line in fresh.stdout.splitlines() if "cpu" not in line]


def test_a_forked_command_has_its_own_environment_and_directory(tmp_path: Path) -> None:
    # NEWSWATCH_CONFIG names the config: found only through the forked process's own env,
    # relative to its own working directory.
    (tmp_path / "elsewhere.toml").write_text("[crawl]\nbogus = 1\n", encoding="utf-8")
    result = run_newswatch(["crawl"], tmp_path, subprocess_env(NEWSWATCH_CONFIG="elsewhere.toml"),
                           timeout=60)
    assert result.returncode == 2
    assert "elsewhere.toml" in result.stderr


def test_a_forked_daemon_stops_on_sigterm_and_dies_on_sigkill(site: NewsSite,
                                                               workdir: Workdir) -> None:
    workdir.write_config(sources=[site.url("/feeds/world.rss")])
    log = workdir.path / "daemon.log"
    log.touch()
    argv = ["--config", str(workdir.config), "run"]
    for sig, expected in ((signal.SIGTERM, 0), (signal.SIGKILL, -signal.SIGKILL)):
        process = newswatch_process(argv, workdir.path, subprocess_env(), log, log)
        deadline = time.monotonic() + 60
        while "daemon started" not in log.read_text(encoding="utf-8") and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text(encoding="utf-8")
            time.sleep(0.1)
        assert os.getpgid(process.pid) > 0  # a live process of its own
        process.send_signal(sig)
        assert process.wait(timeout=60) == expected, log.read_text(encoding="utf-8")


def test_a_forked_crawl_runs_inside_a_test_machine(test_network: TestNetwork,
                                                  tmp_path: Path) -> None:
    """In a machine's network namespace (tests/netns.py) the forked crawl reaches the site on
    the host's end of the test network, and nothing any more once the machine is unplugged."""
    site = NewsSite()
    site.host = test_network.address
    with site:
        machine = test_network.machine()
        workdir = Workdir(tmp_path)
        workdir.write_config(sources=[site.url("/feeds/world.rss")])
        for expected in ("1 ok, 0 failed", "0 ok, 1 failed"):
            log = tmp_path / f"crawl-{expected[0]}.log"
            process = newswatch_process(["--config", str(workdir.config), "crawl"], tmp_path,
                                        machine.env(), log, log, netns=machine.name)
            process.wait(timeout=60)
            assert expected in log.read_text(encoding="utf-8"), log.read_text(encoding="utf-8")
            machine.disappear()
