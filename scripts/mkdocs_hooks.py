"""mkdocs hook: the site's front page is README.md, its `docs/` links made relative to docs/.

README.md is the repository's front page on GitHub and links into `docs/`; the site is built
from `docs/`, so the same text, with `](docs/` cut to `](`, is the site's `index.md`. There is
no committed docs/index.md to drift from the README.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

README = Path(__file__).resolve().parents[1] / "README.md"


def front_page(readme: str) -> str:
    """The README as the site's index.md: its links into docs/ made relative to docs/."""
    return readme.replace("](docs/", "](")


def on_files(files: Files, config: Any) -> Files:
    files.append(File.generated(config, "index.md", content=front_page(README.read_text("utf-8"))))
    return files
