"""Write docs/CLI.md from the commands' --help texts: `python scripts/cli_reference.py`
(tests/test_cli_reference.py fails when the checked-in file differs)."""
from pathlib import Path

from ipgraph.cli import cli_reference

target = Path(__file__).resolve().parent.parent / "docs" / "CLI.md"
target.write_text(cli_reference(), encoding="utf-8")
print(f"wrote {target}")
