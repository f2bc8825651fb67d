"""Cheaper nbgrader bookkeeping for the grading workers: the same answers, computed once.

nbgrader repeats work whose answer cannot change while a class is graded. On a small
notebook this repetition cost more than the notebook itself. Each patch here keeps nbgrader's
behaviour; ``tests/test_nbgrader_speedups.py`` checks that.

* ``get_alembic_version`` runs ``alembic heads`` in a subprocess for every new gradebook (a new
  Python that imports alembic and nbgrader: 1-4 s). The answer depends only on the installed
  nbgrader's migration scripts: it is read from them in this process, with alembic's own
  ``ScriptDirectory`` (what ``alembic heads`` prints), once.
* ``Gradebook`` runs ``create_all`` (one query per table) each time it opens a database. A
  scratch gradebook copied from a complete template already has every table, so for
  :func:`register_scratch_gradebook` URLs it is skipped.
* ``jsonschema.validate`` checks the schema itself before it validates each cell's metadata.
  nbgrader validates every cell several times per submission against the same schema.
  The validator is built once per schema, and the result is the same (``best_match`` error).
* ``Gradebook`` creates a new SQLAlchemy engine each time it opens, so SQLAlchemy recompiles
  every query, and disposes of its pool when it closes, so every opening connects anew. A
  registered scratch gradebook keeps one engine, with its compiled-statement cache and its
  pool; the worker closes the pool's connections (:func:`close_connections`) before it
  replaces the file for the next submission. Private and short-lived, it keeps its rollback
  journal in memory and is never synced to disk.
"""
import functools
import json
import threading

from sqlalchemy import event

_lock = threading.Lock()
_scratch_urls = set()   # URLs of scratch gradebooks copied from a complete template
_engines = {}           # their engines, kept across openings
_validators = {}        # JSON text of a schema -> its validator


def register_scratch_gradebook(url):
    """``url`` is a worker's scratch SQLite gradebook copied from a template with every table."""
    with _lock:
        _scratch_urls.add(str(url))


def forget_scratch_gradebook(url):
    """Drop ``url``'s engine (its pool is closed) and stop treating it as a scratch gradebook."""
    with _lock:
        _scratch_urls.discard(str(url))
        engine = _engines.pop(str(url), None)
    if engine is not None:
        engine._course_dispose()


def close_connections(url):
    """Close every pooled connection to ``url`` (before the file is replaced)."""
    engine = _engines.get(str(url))
    if engine is not None:
        engine._course_dispose()


def _alembic_head_in_process():
    """The head revision of nbgrader's migration scripts, as ``alembic heads`` prints it first."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    # nbgrader's own (private) ini writer, so the script location is nbgrader's: an internal of the
    # pinned nbgrader 0.9.6, checked against its subprocess by test_alembic_head_is_asked_once_and_unchanged
    from nbgrader.dbutil import _temp_alembic_ini
    with _temp_alembic_ini("sqlite:////tmp/gradebook.db") as ini:
        return ScriptDirectory.from_config(Config(ini)).get_heads()[0]


def _cache_alembic_head(nbapi):
    if not hasattr(nbapi.get_alembic_version, "cache_info"):
        asked = functools.lru_cache(maxsize=1)(_alembic_head_in_process)
        asked.__wrapped__ = nbapi.get_alembic_version  # nbgrader's own (a subprocess), for the test
        nbapi.get_alembic_version = asked


def _skip_create_all_on_scratch(nbapi):
    metadata = nbapi.Base.metadata
    if getattr(metadata, "_course_patched", False):
        return
    create_all = metadata.create_all

    def create_all_unless_scratch(bind=None, tables=None, checkfirst=True):
        if bind is not None and str(getattr(bind, "url", "")) in _scratch_urls:
            return None
        return create_all(bind=bind, tables=tables, checkfirst=checkfirst)
    metadata.create_all = create_all_unless_scratch
    metadata._course_patched = True


def _private_sqlite(dbapi_connection, _record):
    """A scratch gradebook is one process's private file, replaced for every submission: its
    rollback journal stays in memory and nothing is synced (a crash loses only what would be
    thrown away anyway)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=MEMORY")
    cursor.execute("PRAGMA synchronous=OFF")
    cursor.close()


def _keep_pool(close=True):
    """Stands in for ``Engine.dispose`` of a scratch gradebook's engine (see below)."""


def _one_engine_per_scratch_gradebook(nbapi):
    create_engine = nbapi.create_engine
    if getattr(create_engine, "_course_patched", False):
        return

    def create_engine_once(url, *args, **kwargs):
        key = str(url)
        if key not in _scratch_urls:
            return create_engine(url, *args, **kwargs)
        with _lock:
            if key not in _engines:
                engine = create_engine(url, *args, **kwargs)
                event.listen(engine, "connect", _private_sqlite)
                # Gradebook.close() disposes the engine's pool; for a scratch gradebook that would
                # mean a new pool (and SQLAlchemy's first-connect set-up) at every opening, about
                # ten times per submission. The pool is kept; close_connections() really disposes.
                engine._course_dispose = engine.dispose
                engine.dispose = _keep_pool
                _engines[key] = engine
            return _engines[key]
    create_engine_once._course_patched = True
    nbapi.create_engine = create_engine_once


class _CachedJsonSchema:
    """Stands in for the ``jsonschema`` module inside nbgrader's metadata validator."""

    def __init__(self, jsonschema):
        self._jsonschema = jsonschema

    def __getattr__(self, name):
        return getattr(self._jsonschema, name)

    def validate(self, instance, schema, cls=None, *args, **kwargs):
        if cls is not None or args or kwargs:
            return self._jsonschema.validate(instance, schema, cls, *args, **kwargs)
        key = json.dumps(schema, sort_keys=True)
        validator = _validators.get(key)
        if validator is None:
            kind = self._jsonschema.validators.validator_for(schema)
            kind.check_schema(schema)
            validator = _validators.setdefault(key, kind(schema))
        error = self._jsonschema.exceptions.best_match(validator.iter_errors(instance))
        if error is not None:
            raise error


def _validate_schema_once():
    from nbgrader.nbgraderformat import common
    if not isinstance(common.jsonschema, _CachedJsonSchema):
        common.jsonschema = _CachedJsonSchema(common.jsonschema)


def install():
    """Apply every speed-up (idempotent)."""
    import nbgrader.api as nbapi
    _cache_alembic_head(nbapi)
    _skip_create_all_on_scratch(nbapi)
    _one_engine_per_scratch_gradebook(nbapi)
    _validate_schema_once()
