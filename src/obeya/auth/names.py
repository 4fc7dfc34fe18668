"""User names: one spelling per name, and none that only looks like another.

A name is kept NFKC-normalised (full-width letters, ligatures and no-break spaces become their
plain forms) and stripped. Characters that show nothing, or show as something else, are
refused: controls, format characters (zero-width spaces and joiners, direction marks), private
use, unassigned code points, line and paragraph separators, spaces other than the plain ASCII
space, and the few letters and marks that render as blanks (Hangul fillers, variation
selectors). Without this, ``wsadmin\\u200b`` is a second account that reads as ``wsadmin`` in
every list and log. Look-ups normalise the same way, so ``ｗｓａｄｍｉｎ`` finds ``wsadmin``.
"""

from __future__ import annotations

import unicodedata

from obeya.errors import InputError

#: Longest name kept (a name is shown in lists and logs, not a place for text).
MAX_NAME_LENGTH = 100
#: Unicode general categories refused anywhere in a name.
REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"})
#: Letters, marks and symbols that render as nothing or as a blank although their category
#: says otherwise.
INVISIBLE = frozenset(
    {0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x2800, 0x3164, 0xFFA0}
    | set(range(0xFE00, 0xFE10))  # variation selectors
    | set(range(0xE0100, 0xE01F0))  # variation selectors supplement
)


def lookup_name(text: str) -> str:
    """``text`` as a name is kept (NFKC, stripped), without judging it: what a look-up or a
    count of wrong passwords is keyed by."""
    return unicodedata.normalize("NFKC", text).strip()


def _refused(char: str) -> bool:
    if char == " ":
        return False
    return unicodedata.category(char) in REFUSED_CATEGORIES or ord(char) in INVISIBLE


def user_name(text: str) -> str:
    """The name to keep for ``text``; InputError if it is blank, too long, or holds a
    character that is invisible or a control (the error names them by code point)."""
    name = lookup_name(text)
    if not name:
        raise InputError("a user needs a name that is not blank")
    bad = sorted({c for c in name if _refused(c)})
    if bad:
        shown = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}" for c in bad)
        raise InputError(
            f"a user name may not hold invisible, control or format characters ({shown}); "
            "use letters, digits, punctuation and plain spaces"
        )
    if len(name) > MAX_NAME_LENGTH:
        raise InputError(f"a user name has at most {MAX_NAME_LENGTH} characters")
    return name
