"""The README's quick start, run as a user would: the example config starts the daemon with
the local mbox default, and the daemon keeps running although no source is reachable."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, Daemon, Workdir, subprocess_env


def test_tests_cannot_resolve_or_reach_real_hosts():
    with pytest.raises(OSError):
        socket.getaddrinfo("feeds.bbci.co.uk", 443)
    code = "import socket; socket.create_connection(('93.184.216.34', 80), timeout=1)"
    result = subprocess.run([sys.executable, "-c", code], env=subprocess_env(),
                            capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode != 0
    assert "tests may only connect to loopback" in result.stderr


def test_quick_start_runs_the_daemon_on_the_example_config(tmp_path: Path):
    shutil.copy(ROOT / "example.toml", tmp_path / "example.toml")
    workdir = Workdir(tmp_path)
    workdir.config = tmp_path / "example.toml"
    check = workdir.newswatch("check")
    assert check.returncode == 0, check.stderr
    assert "alerts via mbox" in check.stdout

    daemon = Daemon(workdir, {})
    try:
        daemon.wait_for_log("daemon started")
        # The example's real feeds do not resolve here: each failure is logged, not fatal.
        daemon.wait_for_log("failed:", timeout=60)
        assert daemon.proc.poll() is None
    finally:
        code = daemon.stop(signal.SIGTERM)
    assert code == 0, daemon.output()
    assert (tmp_path / "newswatch.db").exists()
    status = workdir.newswatch("status")
    assert status.returncode == 0
    assert "FAILING" in status.stdout and "feeds.bbci.co.uk" in status.stdout


def test_the_readme_examples_of_adding_sources_and_topics_change_something(tmp_path: Path):
    """Run on the Quick start's example.toml, as a new user would, the README's `sources add`
    and `topics add` examples did nothing: the URL and the topic name were the example
    file's own ("already defined in example.toml: unchanged"), the --exclude typed lost."""
    import shlex
    import shutil

    from conftest import run_in_process

    shutil.copy(ROOT / "example.toml", tmp_path / "example.toml")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    examples = [
        shlex.split(line)[1:]
        for line in readme.splitlines()
        if line.startswith(("newswatch sources add ", "newswatch topics add "))
    ]
    assert {words[0] for words in examples} == {"sources", "topics"}, examples
    env = {"NEWSWATCH_CONFIG": "example.toml"}
    for words in examples:
        done = run_in_process(words, tmp_path, env)
        assert done.returncode == 0 and "unchanged" not in done.stdout, (words, done)
    listed = run_in_process(["sources", "list", "--format", "json"], tmp_path, env).stdout
    topics = run_in_process(["topics", "list"], tmp_path, env).stdout
    for words in examples:
        added = words[2]
        assert added in (listed if words[0] == "sources" else topics), words


def test_the_configuration_example_checks_without_a_warning(tmp_path: Path):
    """The Configuration section's example file, copied as it is: `newswatch check` took its
    topic's `sources = ["BBC News", …]` for a typo (its one source had no name), so a new
    user's first check of the README's own example warned that the topic would never alert."""
    from conftest import run_in_process

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    example = section.split("```toml\n", 1)[1].split("```", 1)[0]
    (tmp_path / "newswatch.toml").write_text(example, encoding="utf-8")
    done = run_in_process(["check"], tmp_path, {"NEWSWATCH_CONFIG": "newswatch.toml",
                                                "NEWSWATCH_SMTP_PASSWORD": "secret"})
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stdout + done.stderr, done.stdout + done.stderr
    assert "1 source(s), 1 topic(s)" in done.stdout
