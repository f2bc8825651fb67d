"""`course grade`'s options, as traitlets: set them in the course's ``nbgrader_config.py``
(``c.CourseGrader.workers = 4``) or on the command line under the same name (``--workers 4``;
the command line wins). nbgrader's own options stay nbgrader's: the cell timeout is
``Execute.timeout``, the gradebook ``CourseDirectory.db_url``, the pipeline ``Autograde``'s.
The sandbox's defaults live in :class:`~course.grading.sandbox.Limits`, and only there.
"""
from traitlets import Bool, Enum, Float, Integer, Unicode
from traitlets.config import Configurable

from course.grading.sandbox import MB, Limits
from course.paths import CourseError

_DEFAULT = Limits()


class CourseGrader(Configurable):
    """How `course grade` grades: where, how many at once, and the sandbox's limits."""

    workers = Integer(1, help="Submissions graded at once on this machine.").tag(config=True)
    executor = Enum(["local", "dask"], "local", help="Grade here (local) or on a Dask cluster (dask).").tag(config=True)
    scheduler = Unicode("", help="The Dask scheduler's address, tcp://HOST:PORT (executor dask).").tag(config=True)
    feedback = Bool(True, help="Write feedback/<student>/<assignment>/*.html.").tag(config=True)
    isolation = Bool(True, help="Kernels in the sandbox (own uid, namespaces, allow-list file system); "
                     "off: as this user, rlimits only.").tag(config=True)
    quick = Bool(_DEFAULT.quick, help="Training cells run their short version (COURSE_QUICK=1).").tag(config=True)
    notebook_timeout = Float(_DEFAULT.notebook_timeout, help="Wall-clock seconds per notebook.").tag(config=True)
    cpu_time = Integer(_DEFAULT.cpu_seconds, help="CPU seconds per kernel.").tag(config=True)
    memory = Integer(_DEFAULT.memory // MB, help="Address-space limit per kernel, MB.").tag(config=True)
    output_limit = Integer(_DEFAULT.output // 1024, help="Outputs kept per notebook, KB.").tag(config=True)
    tmp_size = Integer(_DEFAULT.tmp_size // MB, help="Size of a kernel's private /tmp and /dev/shm, MB.").tag(config=True)
    workdir_size = Integer(_DEFAULT.workdir_size // MB, help="Size of a kernel's working directory (its "
                           "bundle, the submission's files and what it writes), MB.").tag(config=True)
    submission_size = Integer(_DEFAULT.submission // MB, help="What the grader reads of a submission's files, "
                              "MB.").tag(config=True)

    def limits(self):
        """The sandbox limits these options set (the cell timeout is nbgrader's Execute.timeout)."""
        return Limits(notebook_timeout=self.notebook_timeout, cpu_seconds=self.cpu_time, memory=self.memory * MB,
                      output=self.output_limit * 1024, tmp_size=self.tmp_size * MB,
                      workdir_size=self.workdir_size * MB, submission=self.submission_size * MB, quick=self.quick)


def grader_options(config, given):
    """A CourseGrader from the course's ``config`` with the command line's ``given`` values (a dict
    of option name -> value, None meaning not given) on top. Raises CourseError for an option the
    config names that does not exist (a typo must not be ignored silently)."""
    known = CourseGrader.class_trait_names(config=True)
    unknown = sorted(set(config.get("CourseGrader", {})) - set(known))
    if unknown:
        raise CourseError(f"nbgrader_config.py: CourseGrader has no option {', '.join(unknown)} "
                          f"(its options: {', '.join(sorted(known))})")
    grader = CourseGrader(config=config)
    for name, value in given.items():
        if value is not None:
            setattr(grader, name, value)
    return grader
