"""An ``NbGraderAPI`` for a course root, with the course's config and optional overrides."""
from pathlib import Path

from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

from course.paths import COURSE_ROOT


def load_config(root=COURSE_ROOT):
    """The traitlets config of ``root/nbgrader_config.py`` (empty if there is none)."""
    path = Path(root) / "nbgrader_config.py"
    if not path.exists():
        return Config()
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def make_api(root=COURSE_ROOT, db_url=None, overrides=None):
    """NbGraderAPI rooted at ``root``.

    Args:
        root: the course directory (holding source/, release/, submitted/ ...); the settings
            come from its ``nbgrader_config.py`` (a scratch root without one: from
            :data:`COURSE_ROOT`'s).
        db_url: SQLAlchemy URL of the gradebook; default: the config's (SQLite in ``root``).
        overrides: a dict ``{"Section": {"trait": value}}`` merged over the config, e.g.
            ``{"Execute": {"timeout": 20}}`` or ``{"CourseDirectory": {"release_directory": tmp}}``.
    """
    root = Path(root).resolve()
    own = (root / "nbgrader_config.py").is_file()
    config = load_config(root if own else COURSE_ROOT)  # a scratch root gets the course's settings
    config.CourseDirectory.root = str(root)
    if db_url:
        config.CourseDirectory.db_url = db_url
    elif not own or "db_url" not in config.CourseDirectory:
        config.CourseDirectory.db_url = "sqlite:///" + str(root / "gradebook.db")
    for section, traits in (overrides or {}).items():
        for trait, value in traits.items():
            config[section][trait] = value
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)
