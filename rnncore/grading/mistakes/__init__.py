"""Catalogues of typical wrong implementations, one module per assignment.

Each catalogue is a tuple of :class:`~rnncore.grading._compare.Mistake`: a
description that completes "This looks like ...", the chapter that teaches the
right way, and a small wrong function with the student's signature (a
``(forward, backward)`` pair for backward checks). The checks name a mistake
when the student's output equals its output; the test suite runs every
mistake as a mutant that must fail its check with that message.

Each module also holds a correct plain-NumPy solution (``solution_*``), the
base the wrong functions are written from. Because those are model answers
(and the forward of every backward pair is right), every function here starts
with ``guard(...)`` and the grader's watcher (``rnncore.grading._watch``)
treats this package like the reference: a student's graded function that
calls into it scores 0.

To run a catalogued mistake *as if it were a student's own code* (mutation
tests, e.g. an autograded notebook whose answer cell is a mistake), lift both
protections first, as copied source code would not have them::

    import importlib, pkgutil
    import rnncore.grading._watch as _watch
    import rnncore.grading.mistakes as _mistakes

    _watch.catalogue_is_student_code = True
    for _info in pkgutil.iter_modules(_mistakes.__path__):
        module = importlib.import_module(f"{_mistakes.__name__}.{_info.name}")
        module.guard = lambda name: None
"""
