"""Text pasted into generated Python source, made safe in one place.

Generated programs (``jit``, eager grad's compiled programs, control-flow bodies,
checkpointed calls, numexpr expressions) are compiled from source text, so every string
that reaches it is escaped or generated here: strings from outside funcdiff (file and
function names of user code in comments, the jitted function's name, primitive names,
checkpoint names) never reach the source raw, and identifiers are ASCII (Python
NFKC-normalizes non-ASCII identifiers, so ``jit_ℌ`` would be stored as ``jit_H``).
Operands get the brackets their slot in a template needs.
"""
from __future__ import annotations

import functools
import keyword
import os
import re

MAX_NAME = 40       # characters of a name kept in a generated identifier
MAX_COMMENT = 120   # characters of a name kept in a comment

_IDENT_CHAR = re.compile(r"[^A-Za-z0-9_]")
_ASCII_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def identifier(name, prefix: str) -> str:
    """``prefix`` followed by ``name`` cut to ASCII letters, digits and ``_`` (anything
    else becomes ``_``; at most ``MAX_NAME`` characters kept).  ``prefix`` must itself
    start an identifier, so the result is a valid ASCII identifier whatever ``name``
    holds."""
    return prefix + _IDENT_CHAR.sub("_", str(name)[:MAX_NAME])


def is_identifier(name) -> bool:
    """Whether ``name`` may be pasted into source as it is (as a keyword argument's
    name, for instance): a short ASCII identifier that is not a keyword."""
    return type(name) is str and len(name) <= MAX_NAME and \
        _ASCII_IDENT.match(name) is not None and not keyword.iskeyword(name)


def comment(text) -> str:
    """``text`` as the body of a one-line comment.  Every character that is not
    printable -- line breaks (``\\n``, ``\\r``, ``\\x0c``, ``\\x85``, ``\\u2028``...), NUL,
    other control and format characters, lone surrogates -- is written as a backslash
    escape (and a backslash as two), so the comment can neither end early (injecting
    code) nor shift the line numbers tracebacks show.  Long text is shortened to
    ``MAX_COMMENT`` characters."""
    text = str(text)
    if len(text) > MAX_COMMENT:
        text = text[:MAX_COMMENT - 3] + "..."
    if text.isprintable() and "\\" not in text:
        return text
    return "".join(ch if ch.isprintable() and ch != "\\" else
                   ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                   for ch in text)


@functools.lru_cache(maxsize=1024)
def location_comment(source_info) -> str:
    """``  # file.py:12 (function)`` for an eqn's source location ('' for none)."""
    if source_info is None:
        return ""
    name = os.path.basename(str(source_info.filename))
    return f"  # {comment(name)}:{int(source_info.lineno)} ({comment(source_info.function)})"


def string_literal(text: str) -> str:
    """A Python string literal for ``text``, in ASCII (every quote, backslash, line
    break or non-ASCII character escaped)."""
    return ascii(str(text))


def operand(text: str) -> str:
    """An operand's source ready for any slot of an operator template: a primary (a
    name, an unsigned number, or something already in one pair of brackets) as it is,
    anything else (a negative literal, an operator expression) bracketed.  Templates
    paste operands into the tightest-binding slots Python has (``{0} ** {1}``'s base,
    ``{0}[i]``, ``-{0}``), where ``-2.0 ** x`` would mean ``-(2.0 ** x)``."""
    if _is_name(text) or _is_number(text) or _enclosed(text) or all(
            _is_name(part) for part in text.split(".")):
        return text
    return f"({text})"


def _is_name(text: str) -> bool:
    """A name (``not`` or ``lambda`` are operators, ``True`` and ``None`` are values)."""
    return text.isidentifier() and (not keyword.iskeyword(text) or
                                    text in ("True", "False", "None"))


def _is_number(text: str) -> bool:
    """An unsigned number literal: 2, 2.5, .5, 1e-05, 3j (not 1+2j)."""
    if not text or not (text[0].isdigit() or text[0] == "."):
        return False
    try:
        float(text[:-1] if text[-1] in "jJ" else text)
    except ValueError:
        return False
    return True


def _enclosed(text: str) -> bool:
    """Whether ``text`` is one bracketed group: ``(a + b)`` is, ``(a) + (b)`` is not
    (string literals inside are not expected: operands are names, numbers and
    expressions built from them)."""
    if len(text) < 2 or text[0] not in "([" or text[-1] != {"(": ")", "[": "]"}[text[0]]:
        return False
    depth = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return False
    return depth == 0
