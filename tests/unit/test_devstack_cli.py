"""``invoicing-local``'s own parts: the banner ``serve`` prints is the one README.md shows (ports,
dates, ids and the state file's place aside), the port comes from PORT unless told, it listens on
loopback only, and each stack's state file is its own."""

from __future__ import annotations

import json
import stat

import pytest
from helpers import normalized_banner, readme_banner

from devstack import cli, local, seed, template


def test_the_readme_shows_the_banner_the_stack_prints():
    printed = cli.banner("http://127.0.0.1:3100", "http://127.0.0.1:51234", local.LOCAL_TABLE, seed.DEMO,
                         local.state_root() / "3100" / "stack.json", "http://127.0.0.1:51234",
                         template.sqs_sources())

    assert normalized_banner(printed) == normalized_banner(readme_banner())


def test_the_banner_without_demo_data_says_how_to_make_some():
    printed = cli.banner("http://127.0.0.1:3000", "http://127.0.0.1:5", "t", None, local.state_path(3000),
                         "http://127.0.0.1:5", [])
    assert "--no-seed" in printed and "Token" not in printed
    assert normalized_banner(printed).endswith("Ctrl-C stops the stack; its data lives in memory only.")


def test_serve_takes_its_port_from_port_unless_told(monkeypatch):
    monkeypatch.setenv("PORT", "3100")
    assert cli.parser().parse_args(["serve"]).port == 3100
    assert cli.parser().parse_args(["serve", "--port", "3200"]).port == 3200
    monkeypatch.delenv("PORT")
    assert cli.parser().parse_args(["serve"]).port == 3000


@pytest.mark.parametrize("port", ["http", "-1", "65536"])
def test_a_port_that_is_no_port_is_a_usage_error(monkeypatch, capsys, port):
    monkeypatch.setenv("PORT", port)
    with pytest.raises(SystemExit) as exited:
        cli.parser().parse_args(["serve"])
    assert exited.value.code == 2 and "is not a port number" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])  # noqa: S104 - refused
def test_serve_listens_on_loopback_only(capsys, host):
    with pytest.raises(SystemExit) as exited:
        cli.parser().parse_args(["serve", "--host", host])
    assert exited.value.code == 2 and "not a loopback address" in capsys.readouterr().err
    assert cli.parser().parse_args(["serve", "--host", "127.0.0.2"]).host == "127.0.0.2"


def test_each_port_has_its_own_state_file(monkeypatch, tmp_path):
    monkeypatch.delenv("DEVSTACK_STATE_FILE", raising=False)
    monkeypatch.setenv("DEVSTACK_STATE_DIR", str(tmp_path))
    assert local.state_path(3000) == tmp_path / "3000" / "stack.json"
    assert local.state_path(3100) != local.state_path(3000)
    monkeypatch.setenv("DEVSTACK_STATE_FILE", str(tmp_path / "pinned.json"))
    assert local.state_path(3000) == local.state_path(3100) == tmp_path / "pinned.json"


def test_the_state_file_is_its_owner_s_only_and_goes_with_its_stack(monkeypatch, tmp_path):
    monkeypatch.delenv("DEVSTACK_STATE_FILE", raising=False)
    monkeypatch.setenv("DEVSTACK_STATE_DIR", str(tmp_path))
    state = local.State("http://127.0.0.1:5", "t", "http://127.0.0.1:3100", pid=42, port=3100,
                        api_url="http://127.0.0.1:3100/api/v1", demo=seed.DEMO.as_dict())

    path = state.write()

    assert path == tmp_path / "3100" / "stack.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local.read_state(path) == state
    assert json.loads(path.read_text())["demo"]["token"] == seed.TOKEN
    local.remove_state(3100, pid=41)  # another process's: kept
    assert path.exists()
    local.remove_state(3100, pid=42)
    assert not path.parent.exists()
