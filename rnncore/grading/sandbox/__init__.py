"""The process boundary between the grader and a student's code.

* :mod:`.wire` — the message format: data only (``.npy`` bytes, plain
  containers), checked before anything is allocated; never a pickle.
* ``runtime.py`` — the program inside the sandbox, running the student's
  notebook cells and answering calls (standard library and NumPy only).
* :mod:`.bwrap` — the walls: the bubblewrap command line and its limits.
* :mod:`.session` — the grader's side: :class:`~.session.Sandbox` and the
  proxies the checks call.
* :mod:`.errors` — what a call can end with besides a value.

The trusted side of grading (what runs the checks and decides the score) is
:mod:`rnncore.grading.autograde`; this package only carries calls across.
"""
