"""The operations doc lists every setting with its real default."""

from pathlib import Path

from settings import ENV_DEFAULTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_every_setting_appears_in_the_operations_doc_with_its_default() -> None:
    text = DOC.read_text()
    for name, (default, _) in ENV_DEFAULTS.items():
        assert f"| `{name}` | `{default or '(empty)'}` |" in text, name
