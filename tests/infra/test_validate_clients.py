"""``make validate-clients``: every shipped client file passes; a misnamed or broken one is named."""

from __future__ import annotations

from pathlib import Path

from rapport_infra.catalogue import CLIENTS_DIR
from rapport_infra.validate_clients import main, problems_in


def test_every_shipped_client_file_passes(capsys):
    assert main([]) == 0
    assert capsys.readouterr().out.count(": ok") == len(list(CLIENTS_DIR.glob("*.toml")))


def test_a_file_whose_client_id_is_not_its_name_is_refused(tmp_path: Path):
    copy = tmp_path / "other-client.toml"
    copy.write_text((CLIENTS_DIR / "acme-za.toml").read_text())
    [problem] = problems_in(copy)
    assert "client_id 'acme-za' must be the file's name, 'other-client'" in problem


def test_a_broken_file_is_named_and_fails_the_command(tmp_path: Path, capsys):
    broken = tmp_path / "acme-za.toml"
    broken.write_text((CLIENTS_DIR / "acme-za.toml").read_text().replace('timezone = "', 'timezone = "Mars/', 1))
    assert main([str(broken)]) == 1
    assert "timezone" in capsys.readouterr().out
