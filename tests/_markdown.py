"""Checks of markdown source that the renderer would silently get wrong, shared by the
docs and benchmark tests."""
from __future__ import annotations


def table_layout_problems(text):
    """Where a markdown table is not a block of its own, as ``"line N: ..."`` strings.

    Python-Markdown (mkdocs) reads a table only from a block that starts with it, and
    reads every line up to the next blank line as one more row: a heading or a sentence
    right after the last row becomes a table cell, and a table right after a line of
    text is printed as text.  Fenced code blocks are skipped."""
    problems, fenced, prev = [], False, ""
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        is_row = not fenced and line.startswith("|")
        if not fenced and prev.startswith("|") and not is_row and line.strip():
            what = "a heading" if line.startswith("#") else "a line"
            problems.append(f"line {n}: {what} right after a table row (it becomes a "
                            f"cell; put a blank line before it): {line[:70]!r}")
        if is_row and prev.strip() and not prev.startswith("|"):
            problems.append(f"line {n}: a table right after a line of text (it is not "
                            f"rendered as a table; put a blank line before it): "
                            f"{line[:70]!r}")
        prev = "" if fenced else line
    return problems
