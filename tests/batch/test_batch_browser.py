"""The HTML report loaded in a real browser (headless Chromium): its table, sorted by score,
and every picture loaded from the files beside it.

Needs Chromium (Debian: ``apt-get install -y chromium``); skipped when no browser is found.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from coach.batch.runner import BatchOptions, run_batch

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _browser() -> str:
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no Chromium found: install it (apt-get install -y chromium) to load the "
                "batch report in a browser")


def browser_args(browser: str, profile: Path) -> list[str]:
    """A headless Chromium that stays offline and leaves nothing behind."""
    return [browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", f"--user-data-dir={profile}"]


class _Page(HTMLParser):
    """Collects the summary table's rows (cell texts) and every image's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.heads: list[dict[str, str | None]] = []
        self.images: list[dict[str, str | None]] = []
        self._in_summary = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id") == "summary":
            self._in_summary = True
        elif self._in_summary and tag == "tr":
            self.rows.append([])
        elif self._in_summary and tag in ("td", "th"):
            self._cell = []
            if tag == "th":
                self.heads.append(a)
        elif tag == "img":
            self.images.append(a)

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_summary = False
        elif tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_report_in_the_browser_has_its_table_and_pictures(
        tmp_path: Path, sample_path: Callable[[str], Path]) -> None:
    browser = _browser()
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(sample_path("squats"), inputs / "squats.mp4")
    # another camera's view of the lunge: an attempt, not a reference, so it has worst moments
    shutil.copy(sample_path("cam02"), inputs / "cam02.mp4")
    for name in ("keraal_RTK", "keraal_ELK"):
        shutil.copy(sample_path(name), inputs / f"{name}.json")
    (inputs / "broken.mp4").write_bytes(b"\x00" * 512)
    out = tmp_path / "out"
    summary = run_batch(BatchOptions([str(inputs)], "auto", out, workers=2))
    assert summary.failed == 1

    dom = subprocess.run(
        [*browser_args(browser, tmp_path / "profile"), "--dump-dom",
         summary.html_path.resolve().as_uri()],
        capture_output=True, text=True, timeout=120, check=True).stdout
    page = _Page()
    page.feed(dom)
    header, *rows = page.rows
    assert header[:4] == ["Input", "Status", "Exercise", "Score"]
    assert sorted(r[0] for r in rows) == ["broken.mp4", "cam02.mp4", "keraal_ELK.json",
                                          "keraal_RTK.json", "squats.mp4"]
    scores = [float(r[3]) for r in rows if r[3]]
    assert len(scores) == 4 and scores == sorted(scores, reverse=True)  # the script sorted it
    assert "desc" in (page.heads[3].get("class") or "")
    assert rows[-1][1] == "error" and "broken.mp4" in rows[-1][-1]
    assert page.images, "the report shows no thumbnails"
    assert {img.get("data-loaded") for img in page.images} == {"yes"}
    for img in page.images:  # relative files beside the report
        assert (out / str(img["src"])).is_file()

    shot = tmp_path / "report.png"
    subprocess.run([*browser_args(browser, tmp_path / "profile"), f"--screenshot={shot}",
                    "--window-size=1280,1600", summary.html_path.resolve().as_uri()],
                   capture_output=True, timeout=120, check=True)
    assert shot.stat().st_size > 10_000
