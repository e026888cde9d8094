"""nbgrader exchange classes for a hub: a submission's author is who the system says it is.

Stock nbgrader names a submission after ``--student`` when the flag is given, and its
collect only *warns* when the folder's Unix owner differs from that name: on a shared
machine one student can hand in work as another, and ``collect --update`` then replaces the
victim's submission. On the hub every user has their own Unix account, so the kernel knows
who wrote each file. These two classes use that:

* :class:`HubIdentitySubmit` -- the student is the hub's user (``JUPYTERHUB_USER``), which
  must be the Unix user running the process; a different ``--student`` is refused.
* :class:`OwnerCheckedCollect` -- a submission whose folder is not owned by the student it
  names is never collected (and the refusal is logged), so a forged entry in the inbound
  folder, which every student can write to, cannot displace the real one.

Selected in the users' global nbgrader settings (``hubenv.global_nbgrader_config``).
"""

from __future__ import annotations

import glob
import os
import pwd

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.exchange.default.collect import ExchangeCollect, groupby
from nbgrader.exchange.default.submit import ExchangeSubmit


def unix_user() -> str:
    """The account running this process, as the kernel records it (not ``$USER``)."""
    return pwd.getpwuid(os.getuid()).pw_name


def owner_of(path: str) -> str | None:
    try:
        return pwd.getpwuid(os.stat(path).st_uid).pw_name
    except KeyError:
        return None


class HubIdentitySubmit(ExchangeSubmit):
    """``nbgrader submit`` that files the work under the hub user running it, only."""

    def init_dest(self):
        me = unix_user()
        hub_user = os.environ.get("JUPYTERHUB_USER", me)
        if hub_user != me:
            self.fail(
                f"JUPYTERHUB_USER is {hub_user!r} but this process runs as {me!r}: "
                "submit from your own server"
            )
        if self.coursedir.student_id not in ("*", "", me):
            self.fail(
                f"--student={self.coursedir.student_id!r} refused: on this hub you submit "
                f"as yourself ({me!r}) only"
            )
        self.coursedir.student_id = me
        super().init_dest()


class OwnerCheckedCollect(ExchangeCollect):
    """``nbgrader collect`` that ignores submissions not owned by the student they name."""

    def init_src(self):
        if self.coursedir.course_id == "":
            self.fail("No course id specified. Re-run with --course flag.")
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not os.path.isdir(self.inbound_path):
            self.fail(f"Course not found: {self.inbound_path}")
        student_id = self.coursedir.student_id if self.coursedir.student_id else "*"
        pattern = os.path.join(self.inbound_path, f"{student_id}+{self.coursedir.assignment_id}+*")
        records = []
        for path in glob.glob(pattern):
            record = self._path_to_record(path)
            owner = owner_of(path)
            if owner != record["username"]:
                self.log.error(
                    "Not collecting %s: it names %s but is owned by %s",
                    record["filename"],
                    record["username"],
                    owner,
                )
                continue
            records.append(record)

        with Gradebook(self.coursedir.db_url, self.coursedir.course_id) as gb:
            try:
                self.duedate = gb.find_assignment(self.coursedir.assignment_id).duedate
            except MissingEntry:
                self.duedate = None
        self.src_records = []
        for mine in groupby(records, lambda item: item["username"]).values():
            newest_first = self._sort_by_timestamp(mine)
            if self.duedate is not None and self.before_duedate:
                on_time = [r for r in newest_first if r["timestamp"] <= self.duedate]
                newest_first = on_time or newest_first
            self.src_records.append(newest_first[0])
