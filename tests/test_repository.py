"""The repository stands alone: no tracked file refers to a location outside it, or speaks of how
the code was developed (issues, sessions) instead of what the product does."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
# This file spells the forbidden forms out to show that the detector flags them.
THIS_FILE = Path(__file__).resolve().relative_to(REPO_ROOT).as_posix()

# Forms that are wrong wherever they appear.
PATTERNS = {
    "cites the shared folder outside the repository": re.compile(
        r"\.\./shared\b|\bshared" r"/reference\b"
    ),
    "cites a design note that is not in the repository": re.compile(r"\bDESIGN\.md\b"),
    "cites a section of notes that are not in the repository": re.compile(r"\breference §"),
    # Not after a word character, dot, slash or colon: URLs and `.../x` ellipses are fine.
    "absolute path of a development machine": re.compile(
        r"(?<![\w.~:/-])/(?:work|tmp|home|root|Users)/"
    ),
    # "issue" + " 8", "session-2", "this session", "(#12)", "fixes #12"; not CSS colours (`#222;`).
    "development history instead of a product fact": re.compile(
        r"\b(?:issue|session|ticket|sprint)s?[ \t-]+#?\d+\b"
        r"|\b(?:this|earlier|previous) (?:work )?sessions?\b"
        r"|\(#\d+(?:,\s*#\d+)*\)"
        r"|\b(?:PR|pull request|fix(?:es|ed)?|close[sd]?|resolve[sd]?|see|bug|in)\s+#\d+\b",
        re.IGNORECASE,
    ),
}
CLIMBS_OUT = "climbs above the repository root"
# Relative paths that climb: a run of `../` at the start of a path (after a space, quote,
# bracket, `=`…), not in the middle of one (`a/../b`) nor in an ellipsis (`.../b`).
UP_PATH = re.compile(r"(?<![\w./~-])((?:\.\./)+)")
# `Path(__file__)...parents[N]` is N folders above the file's folder, and each `.parent` one more.
FILE_UP = re.compile(
    r"__file__\)(?:\.resolve\(\)|\.absolute\(\))*(?:\.parents\[(\d+)\])?((?:\.parent\b)*)"
)
# `$(dirname "$0")/../..` in shell scripts, `$(CURDIR)/..` in Makefiles.
SCRIPT_UP = re.compile(
    r"(?:\$\(dirname\s+\"?\$(?:0|\{BASH_SOURCE\[0\]\})\"?\)|\$\(CURDIR\))((?:/\.\.)+)(?![\w.])"
)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.text.strip()[:120]}"


def climbs_out(path: str, levels: int) -> bool:
    """Whether going `levels` folders up from the folder holding `path` leaves the repository."""
    return levels > len(PurePosixPath(path).parts) - 1


def _levels_up(parents_index: str | None, parent_steps: str) -> int:
    """Folders above the file's folder for `.parents[N]` followed by `.parent` steps."""
    steps = (int(parents_index) + 1 if parents_index else 0) + parent_steps.count(".parent")
    return max(steps - 1, 0)


def findings(path: str, text: str) -> list[Finding]:
    """Every reference in `text` (the tracked file `path`) to a location outside the repository
    or to the development history."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for rule, pattern in PATTERNS.items():
            if pattern.search(line):
                found.append(Finding(path, number, rule, line))
        climbs = [len(m.group(1)) // 3 for m in UP_PATH.finditer(line)]
        climbs += [_levels_up(m.group(1), m.group(2)) for m in FILE_UP.finditer(line)]
        climbs += [m.group(1).count("..") for m in SCRIPT_UP.finditer(line)]
        if any(climbs_out(path, levels) for levels in climbs):
            found.append(Finding(path, number, CLIMBS_OUT, line))
    return found


def tracked_files() -> list[str]:
    """`git ls-files` of the checkout this test runs in."""
    git = shutil.which("git")
    if git is None:
        pytest.fail("git is not on PATH: this test lists the tracked files with `git ls-files`.")
    listed = subprocess.run(
        [git, "ls-files", "-z"], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        pytest.fail(
            f"`git ls-files` failed in {REPO_ROOT} (run the tests from a git clone): "
            f"{listed.stderr.strip()}"
        )
    return [name for name in listed.stdout.split("\0") if name]


def _text(path: Path) -> str | None:
    """The file's text, or None for binary files (and tracked files deleted in the work tree)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def test_no_tracked_file_refers_outside_the_repository_or_to_its_history():
    files = tracked_files()
    assert "README.md" in files and THIS_FILE in files
    found: list[Finding] = []
    scanned = 0
    for name in files:
        text = _text(REPO_ROOT / name)
        if text is None or name == THIS_FILE:
            continue
        scanned += 1
        found += findings(name, text)
    assert scanned > len(files) // 2  # binary files are the exception
    assert not found, "\n".join(map(str, found))


# Built from parts, so this file never spells a forbidden reference itself.
_DESIGN_CITE = "See ../" + "shared/" + "DESIGN" + ".md for the decisions."
_SHARED_CITE = '"""Constants (shared' + '/reference/api.md)."""'

PLANTED = [
    ("README.md", _DESIGN_CITE, "cites the shared folder"),
    ("README.md", _DESIGN_CITE, "cites a design note"),
    ("pipelines/x.py", _SHARED_CITE, "cites the shared folder"),
    ("tests/test_x.py", "# the DESIGN" + ".md invariants", "cites a design note"),
    ("docs/guide.md", "Open /work/main/warehouse/serving/report.html.", "absolute path"),
    ("BENCHMARKS.md", "Profile at /tmp/pytest-of-root/bench.txt", "absolute path"),
    ("reliability/cases.py", '"""Cases, grouped as issue' + ' 8 lists them."""', "development"),
    ("BENCHMARKS.md", "## History (earlier session" + " 2)", "development"),
    ("BENCHMARKS.md", "## History of the profile (earlier sessions)", "development"),
    ("RELIABILITY.md", "**Found and fixed this session.**", "development"),
    ("simulator/legacy.py", '"""The legacy endpoint (reference §4)."""', "cites a section"),
    ("scripts/demo.py", "# budgets (Issue #5)", "development"),
    ("RELIABILITY.md", "Fixed in #12, see the ticket.", "development"),
    ("dbt_models/x.sql", "-- restated days are reloaded (#7)", "development"),
    ("Makefile", "include ../common.mk", CLIMBS_OUT),
    ("Makefile", "OTHER := $(CURDIR)/../other", CLIMBS_OUT),
    ("docs/bi.md", "[notes](../../notes.md)", CLIMBS_OUT),
    (".ci/run", 'cd "$(dirname "$0")/../.."', CLIMBS_OUT),
    ("tests/test_x.py", 'SPEC = Path(__file__).resolve().parents[2] / "spec.yaml"', CLIMBS_OUT),
    ("assets/x.py", "ROOT = Path(__file__).parents[1].parent", CLIMBS_OUT),
    ("tests/test_x.py", "ROOT = Path(__file__).resolve().parent.parent.parent", CLIMBS_OUT),
]


@pytest.mark.parametrize(("path", "line", "rule"), PLANTED)
def test_the_detector_flags_planted_references(path, line, rule):
    found = findings(path, f"first line\n{line}\n")
    assert [f.line for f in found if f.rule.startswith(rule)] == [2], found


FINE = [
    ("docs/architecture.md", "The [README](../README.md) lists the commands."),
    ("tests/fixtures/raw.py", 'SOURCES = Path(__file__).resolve().parents[2] / "dbt_models"'),
    ("tests/test_x.py", "REPO_ROOT = Path(__file__).resolve().parents[1]"),
    ("assets/x.py", "ROOT = Path(__file__).parents[0].parent"),
    ("tests/test_x.py", "HERE = Path(__file__).resolve().parent"),
    ("tests/test_x.py", "ROOT = Path(__file__).resolve().parent.parent"),
    (".ci/run", 'cd "$(dirname "$0")/.."'),
    ("docs/bi.md", 'No files found that match the pattern ".../parquet/<mart>.parquet"'),
    ("simulator/spec/x.yaml", "#  (/organization/spend_alerts/{id}, .../spend_alerts/{id})"),
    ("bench/charts.py", 'COLORS = ("#4e79a7", "#000000")'),
    ("serving/report/page.py", ".card { color: #555; box-shadow: 0 1px 2px #0002; }"),
    ("README.md", "<https://example.com/tmp/x> and a/../b and ~/tmp/x"),
    ("README.md", "| `usage/code_interpreter_sessions` | 12 | 12 |"),
    ("RELIABILITY.md", "Fix 2 below landed after the full run (RELIABILITY.md, fix 7)."),
    ("docs/bi.md", "A session that ATTACHes the file sets the variable in that session."),
    ("simulator/spec/README.md", "## What the API does beyond the spec"),
    ("reliability/harness.py", "root = Path(tempfile.mkdtemp())"),
    ("Makefile", "docs: $(CURDIR)/dbt_models"),
]


@pytest.mark.parametrize(("path", "line"), FINE)
def test_the_detector_leaves_in_repository_references_alone(path, line):
    assert findings(path, line) == []


def test_climbing_is_measured_from_the_files_folder():
    assert not climbs_out("README.md", 0)
    assert climbs_out("README.md", 1)
    assert not climbs_out("tests/test_x.py", 1)
    assert climbs_out("tests/test_x.py", 2)
    assert not climbs_out("tests/fixtures/raw.py", 2)
    assert climbs_out("tests/fixtures/raw.py", 3)
