"""Every command's --help prints and exits 0 (a help text with a bare '%' once broke `experiment --help`)."""
import pytest

from core.cli import build_parser, main


def _commands():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    names = []
    for name, command in sub.choices.items():
        inner = [a for a in command._actions if a.__class__.__name__ == "_SubParsersAction"]
        names += [[name, child] for child in inner[0].choices] if inner else [[name]]
    return names


@pytest.mark.parametrize("command", _commands(), ids=" ".join)
def test_every_command_prints_its_help(command, capsys):
    with pytest.raises(SystemExit) as stop:
        main([*command, "--help"])
    assert stop.value.code == 0
    assert "usage: hybridlab" in capsys.readouterr().out
