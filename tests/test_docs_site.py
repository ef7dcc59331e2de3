"""The documentation site builds with `mkdocs build --strict`: every relative link and anchor
resolves, every page under docs/ is in the nav, and the pages load nothing from the internet."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXTERNAL_ASSET = re.compile(r"""<(?:link|script|img)[^>]+(?:href|src)=["'](?:https?:)?//""")


def test_the_site_builds_strictly_and_offline(tmp_path: Path) -> None:
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0 and "WARNING" not in result.stderr, result.stderr
    index = (site / "index.html").read_text(encoding="utf-8")
    # the README is the front page: its picture and its links into the pages
    assert 'src="board.png"' in index and (site / "board.png").is_file()
    assert 'href="getting-started.html#architecture"' in index
    for page in site.glob("*.html"):
        html = page.read_text(encoding="utf-8")
        assert not EXTERNAL_ASSET.search(html), f"{page.name} loads from the internet"


def test_the_readme_links_only_to_files_that_exist() -> None:
    # the site checks them as pages; GitHub shows README.md from the repository's root
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#]+)[^)]*\)", readme)
    local = [t for t in targets if "://" not in t]
    assert local and all((ROOT / t).is_file() for t in local), local


def _headings(text: str) -> list[str]:
    """The Markdown headings of a page, outside fenced code."""
    found, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#+ (.*)", line)):
            found.append(m.group(1))
    return found


def _github_anchor(title: str) -> str:
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def test_every_heading_has_the_same_anchor_on_github_and_in_the_site() -> None:
    from markdown.extensions.toc import slugify

    # the build checks links against the site's anchors; GitHub must find the same ones
    differ = [
        f"{page.name}: {title!r} is #{slugify(title, '-')} here, #{_github_anchor(title)} there"
        for page in sorted((ROOT / "docs").glob("*.md"))
        for title in _headings(page.read_text(encoding="utf-8"))
        if slugify(title, "-") != _github_anchor(title)
    ]
    assert not differ, "\n".join(differ)
