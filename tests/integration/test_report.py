"""The local report: two PNG charts and one self-contained HTML page, from a real gold table."""

from __future__ import annotations

import json
import re

import pytest
from PIL import Image

from streaming.cli import main
from streaming.pipeline.runner import run_available_now
from streaming.read.report import DPI, SIZE_INCHES, render_report
from tests.pages import item

pytestmark = pytest.mark.spark


def test_report_renders_gold_as_png_and_html(spark, config, landing, tmp_path, capsys):
    landing.page(
        [
            item("tt0000001", "A", "1999"),
            item("tt0000002", "B", "1999", "series"),
            item("tt0000003", "C", "2001–2004", "series"),  # counted in its start year
            item("tt0000004", "D", "2003", "game"),
        ]
    )
    run_available_now(spark, config)
    out = tmp_path / "report"
    root = str(tmp_path / "lakehouse")

    assert main(["report", "--out", str(out), "--root", root]) == 0

    for name in ("releases_by_year.png", "releases_trend.png"):
        with Image.open(out / name) as image:
            image.verify()
        with Image.open(out / name) as image:
            assert image.format == "PNG"
            assert image.size == (SIZE_INCHES[0] * DPI, SIZE_INCHES[1] * DPI)
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2
    data = json.loads(re.search(r'id="release-data">(.*?)</script>', page).group(1))
    assert data["years"] == [1999, 2000, 2001, 2002, 2003]
    assert data["series"] == {
        "movie": [1, 0, 0, 0, 0],
        "series": [1, 0, 1, 0, 0],
        "game": [0, 0, 0, 0, 1],
    }
    assert "report.html" in capsys.readouterr().err


def test_an_empty_gold_still_renders(tmp_path):
    files = render_report([], tmp_path)
    assert files.stacked_bars_png.stat().st_size > 0
    assert '"years": []' in files.html.read_text()


def test_report_before_any_run_is_one_clear_line(spark, tmp_path, capsys):
    assert main(["report", "--root", str(tmp_path)]) == 1
    assert (
        capsys.readouterr().err.strip() == "error: gold does not exist yet: run the pipeline first"
    )
