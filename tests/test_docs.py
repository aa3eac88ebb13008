"""The documentation matches the code (in the manner of sqlite-utils' and Datasette's
test_docs.py): every setting and every command is documented, documented commands exist,
and the deploy and CI files do what the README says."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from newswatch.cli import cli
from newswatch.settings import LISTS, SECTIONS

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
UNIT = ROOT / "deploy" / "newswatch.service"
UNITS = sorted((ROOT / "deploy").glob("*.service"))
CI = ROOT / ".ci" / "run"


def reference_table() -> dict[str, tuple[str, str]]:
    """`key` -> (default, meaning) from the README's ### Reference table."""
    section = README.split("### Reference", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        match = re.match(r"^\|\s*`([^`]+)`\s*\|(.*)\|(.*)\|\s*$", line)
        if match:
            rows[match.group(1)] = (match.group(2).strip(), match.group(3).strip())
    return rows


def documented_key(section: str, key: str) -> str:
    return f"{section}[].{key}" if section in LISTS else f"{section}.{key}"


ALL_KEYS = [(s, k) for s, keys in {**SECTIONS, **LISTS}.items() for k in keys]


def shell_blocks() -> list[str]:
    return re.findall(r"```(?:sh|bash|shell|console)\n(.*?)```", README, re.DOTALL)


def shell_commands() -> list[list[str]]:
    """Every simple command in the README's shell blocks, split into words."""
    commands = []
    for block in shell_blocks():
        for line in block.splitlines():
            line = line.strip().removeprefix("$ ")
            if not line or line.startswith("#"):
                continue
            for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", line):
                if part:
                    commands.append(shlex.split(part))
    return commands


def subcommand_of(words: list[str]) -> str | None:
    """The subcommand of a ``newswatch [--config FILE] COMMAND ...`` command line."""
    args = iter(words[1:])
    for word in args:
        if word in ("--config", "-c"):
            next(args, None)
        elif word.startswith("--config="):
            continue
        elif not word.startswith("-"):
            return word
    return None


# -- settings ---------------------------------------------------------------------------------


def test_reference_table_is_found() -> None:
    assert len(reference_table()) >= 10


@pytest.mark.parametrize(("section", "key"), ALL_KEYS)
def test_every_setting_is_documented(section: str, key: str) -> None:
    table = reference_table()
    name = documented_key(section, key)
    assert name in table, f"{name} is missing from README.md's reference table"
    default, meaning = table[name]
    assert default and meaning, f"{name}: empty default or meaning"


def test_every_documented_setting_exists() -> None:
    known = {documented_key(s, k) for s, k in ALL_KEYS}
    assert set(reference_table()) <= known, set(reference_table()) - known


@pytest.mark.parametrize(("section", "key"), ALL_KEYS)
def test_documented_literal_defaults_are_the_real_ones(section: str, key: str) -> None:
    default = reference_table()[documented_key(section, key)][0]
    literal = re.fullmatch(r"`([^`]+)`", default)
    setting = {**SECTIONS, **LISTS}[section][key]
    if literal is None or "…" in literal.group(1):
        # Prose such as "(required)" or "next to the database": the default is computed.
        assert setting.default is None or "…" in default, (default, setting.default)
        return
    if literal.group(1) in reference_table():
        # Another key's value, e.g. sources[].every defaults to `crawl.every`.
        assert setting.default is None
        return
    value = tomllib.loads(f"v = {literal.group(1)}")["v"]
    assert value == setting.default


def test_required_keys_say_so() -> None:
    table = reference_table()
    for section, keys in {**SECTIONS, **LISTS}.items():
        for key, setting in keys.items():
            if setting.required:
                assert "required" in table[documented_key(section, key)][0], (section, key)


# -- commands ---------------------------------------------------------------------------------


def test_commands_are_found() -> None:
    assert set(cli.commands) >= {"run", "crawl", "export", "status", "check"}


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_is_documented(name: str) -> None:
    assert f"`newswatch {name}" in README, f"newswatch {name} is not documented in README.md"
    assert cli.commands[name].help, f"newswatch {name} has no --help text"


def test_every_option_of_export_is_documented() -> None:
    for param in cli.commands["export"].params:
        if param.name == "help":
            continue
        assert any(opt in README for opt in param.opts), param.opts


def test_readme_shell_commands_name_existing_subcommands() -> None:
    newswatch_lines = [words for words in shell_commands() if words and words[0] == "newswatch"]
    assert newswatch_lines, "README shows no newswatch command in a shell block"
    for words in newswatch_lines:
        assert subcommand_of(words) in cli.commands, shlex.join(words)


def test_readme_inline_commands_name_existing_subcommands() -> None:
    mentioned = set(re.findall(r"`newswatch (?:--config \S+ )?([a-z][a-z-]*)", README))
    assert mentioned
    assert mentioned <= set(cli.commands), mentioned - set(cli.commands)


def test_readme_config_file_in_quick_start_exists() -> None:
    for words in shell_commands():
        if words and words[0] == "newswatch" and "--config" in words:
            assert (ROOT / words[words.index("--config") + 1]).is_file()


# -- deploy and CI ----------------------------------------------------------------------------


def unit_settings(unit: Path = UNIT) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_systemd_unit_runs_the_daemon() -> None:
    assert UNIT.is_file()
    settings = unit_settings()
    [exec_start] = settings["ExecStart"]
    argv = shlex.split(exec_start.lstrip("-@:+!"))
    assert Path(argv[0]).name == "newswatch"
    assert argv[1:] == ["run"]


def test_systemd_unit_matches_the_readme() -> None:
    settings = unit_settings()
    assert "NEWSWATCH_CONFIG=/etc/newswatch.toml" in settings["Environment"]
    assert any(v.lstrip("-") == "/etc/newswatch.env" for v in settings["EnvironmentFile"])
    assert settings["User"] != ["root"]
    assert any("-HUP" in v and "$MAINPID" in v for v in settings["ExecReload"])
    assert settings.get("KillSignal", ["SIGTERM"]) == ["SIGTERM"]
    text = UNIT.read_text(encoding="utf-8")
    assert "[Install]" in text and "systemctl enable" in text  # installation steps at the top


def unit_program(unit: Path) -> str:
    """The program the unit's ExecStart runs."""
    [exec_start] = unit_settings(unit)["ExecStart"]
    return shlex.split(exec_start.lstrip("-@:+!"))[0]


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_a_unit_starts_again_a_daemon_killed_by_a_reload_as_it_starts(unit: Path) -> None:
    """`systemctl reload` just after a start (a deployment tool's restart, then its reload)
    sends SIGHUP before Python has loaded newswatch and its handler (the first quarter of a
    second): the process dies of it, and systemd counts a death by SIGHUP as a clean exit,
    which `Restart=on-failure` does not restart: the daemon stayed stopped, its reload said
    to have worked."""
    settings = unit_settings(unit)
    forced = " ".join(settings.get("RestartForceExitStatus", [])).split()
    assert settings["Restart"] == ["always"] or "SIGHUP" in forced


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_systemd_takes_every_setting_of_the_units(unit: Path, tmp_path: Path) -> None:
    """What systemd itself says of each unit: a misspelt setting is only a warning in the
    journal, and the unit runs without it. Its program is swapped for one this machine has
    (systemd checks that it exists)."""
    copy = tmp_path / unit.name
    copy.write_text(unit.read_text(encoding="utf-8").replace(unit_program(unit), sys.executable),
                    encoding="utf-8")
    verified = subprocess.run(["systemd-analyze", "verify", "--man=no", str(copy)],
                              capture_output=True, text=True, timeout=60, check=False)
    assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_the_install_steps_of_a_unit_put_newswatch_where_it_runs_it(unit: Path) -> None:
    """The steps made the user and installed the config and the unit, but not newswatch at
    ExecStart's path: `sudo pip install` is refused by Debian's and Ubuntu's own Python
    (PEP 668, "externally-managed-environment"), a virtual environment puts its `newswatch`
    elsewhere, and the unit failed to start (status 203/EXEC)."""
    steps = [line.removeprefix("#").strip() for line in unit.read_text(encoding="utf-8")
             .split("[Unit]", 1)[0].splitlines() if line.startswith("#   sudo ")]
    installs = [step for step in steps if "pip install" in step]
    assert installs and any(unit_program(unit) in step for step in steps), steps
    if "--role" in unit_settings(unit)["ExecStart"][0]:
        assert all("[postgres]" in step for step in installs), installs


def readme_test_command() -> str:
    lines = [line.strip() for block in shell_blocks() for line in block.splitlines()
             if "pytest" in line]
    assert len(lines) == 1, lines
    return lines[0]


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    command = readme_test_command()
    assert command == "pip install -e '.[test]' && python -m pytest"
    assert CI.is_file()
    ci_lines = [line.strip() for line in CI.read_text(encoding="utf-8").splitlines()]
    assert command in ci_lines
    assert CI.stat().st_mode & 0o111, ".ci/run is not executable"


def test_every_repeatable_option_says_so_in_its_help() -> None:
    """The README writes them `[--exclude PATTERN ...]`; `sources add --help` said nothing of
    repeating --exclude, though --include beside it said "repeat"."""
    import click

    def commands(group: click.Group, path: str):
        for name, command in group.commands.items():
            if isinstance(command, click.Group):
                yield from commands(command, f"{path} {name}")
            else:
                yield f"{path} {name}", command

    for path, command in commands(cli, "newswatch"):
        for param in command.params:
            if isinstance(param, click.Option) and param.multiple:
                assert "repeat" in (param.help or ""), (path, param.opts)


def test_every_document_is_named_in_the_readme() -> None:
    """The README's Layout listed three of docs/'s four documents (docs/testing.md missing)."""
    for document in sorted((ROOT / "docs").glob("*.md")):
        assert f"(docs/{document.name})" in README, document.name
    for unit in sorted((ROOT / "deploy").glob("*.service")):
        assert unit.name in README, unit.name


def test_no_merge_conflict_markers_are_left_in_the_tree() -> None:
    """No line of a tracked text file opens, splits or closes a merge conflict: a README row
    merged with its markers left both versions of the row on the page, and the tests that
    read the README passed."""
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=False).stdout.split()
    if not tracked:
        pytest.skip("not a git checkout")
    marker = re.compile(r"^(<{7} |>{7} |={7}$)", re.M)
    left = []
    for name in tracked:
        if not name.endswith((".md", ".py", ".toml", ".j2", ".txt", ".cfg", ".ini", ".service")):
            continue
        text = (ROOT / name).read_text(encoding="utf-8", errors="replace")
        left += [f"{name}: {m.group(0)!r}" for m in marker.finditer(text)]
    assert left == []
