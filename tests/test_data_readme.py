"""hybridlab data --write-samples rewrites data/README.md's generated part and keeps the
hand-written real-data section (or writes a pointer to real/README.md); data/real is untouched."""
import shutil
from pathlib import Path

from core.cli import main
from core.datasets import KEPT_MARKER

DATA = Path(__file__).resolve().parents[1] / "data"


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_regenerating_the_committed_folder_keeps_the_real_data_section_and_data_real(tmp_path):
    folder = tmp_path / "data"
    shutil.copytree(DATA, folder)
    real_before = _files(folder / "real")
    assert main(["data", "--write-samples", str(folder), "--overwrite"]) == 0
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert text == (DATA / "README.md").read_text(encoding="utf-8")  # the committed file is what it writes
    kept = text[text.index(KEPT_MARKER):]
    assert "## Real data (data/real)" in kept and "`data/real/README.md`" in kept
    assert text.count(KEPT_MARKER) == 1 and text.index("## swrc-synthetic") < text.index(KEPT_MARKER)
    assert _files(folder / "real") == real_before


def test_a_folder_with_real_data_but_no_marker_gets_a_pointer(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "README.md").write_text("# mine\n")
    assert main(["data", "--write-samples", str(tmp_path)]) == 0
    text = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert text.endswith("source, licence, columns and citation of each: `real/README.md`.\n")
    assert (tmp_path / "real" / "README.md").read_text() == "# mine\n"
    assert main(["data", "--write-samples", str(tmp_path), "--overwrite"]) == 0
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == text  # the pointer is kept, not doubled
