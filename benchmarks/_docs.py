"""The one place the benchmarks write their figures: a section of docs/benchmarks.md."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "benchmarks.md"
_NEW_PAGE = "# Benchmarks\n\nSpeed and memory, measured on this project's 2-core machine.\n"


def write_section(heading: str, section: str, page: Path = PAGE) -> Path:
    """Replace the section that starts with ``heading`` (up to the next ``## ``) by
    ``section``, or append it; print and return the page's path."""
    old = page.read_text(encoding="utf-8") if page.exists() else _NEW_PAGE
    pattern = re.escape(heading) + r"\n.*?(?=\n## |\Z)"
    body = section.rstrip() + "\n"
    if re.search(pattern, old, flags=re.S):
        new = re.sub(pattern, lambda _: body, old, flags=re.S)
    else:
        new = old.rstrip() + "\n\n" + body
    page.write_text(new, encoding="utf-8")
    print(f"updated {page}")
    return page
