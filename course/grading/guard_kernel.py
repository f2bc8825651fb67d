"""Code the grader runs inside each student kernel (sent as source, never imported by the grader).

``_install(preimports)`` runs before the first notebook cell, so before any student code: it imports
the modules the instructor's locked cells use, then records pristine references to everything
a test's verdict depends on:
  * the attributes (functions, classes, submodules) of ``numpy*`` (but its build tools such as
    ``numpy.f2py``), ``utils*``, ``builtins``,
    ``math``, ``operator``, ``functools``, ``unittest``, ``traceback`` and ``warnings``, and the
    ``sys.modules`` entries of these modules;
  * ``sys.excepthook/displayhook/exit/stdout/stderr/breakpointhook``, ``sys.meta_path``, the trace
    and profile hooks;
  * the classes and instance attributes of IPython's shell, ipykernel's kernel, the session that
    signs replies, the display hook and the display publisher (``showtraceback``,
    ``run_cell``, ``custom_exceptions``, ``do_execute``, ``send`` ...), the input and AST
    transformers and the event callbacks.
``restore()`` puts all of that back (and the names the instructor's locked cells bound in the
user namespace, recorded by ``recorded(names, value)``, the epilogue the grader adds to every
locked cell); the grader prefixes it to every locked cell. ``reached(nonce, exclude, value)`` is
the epilogue of a graded test: it proves the test ran to its last statement and lists what
changed while the test ran (apart from the names the test binds itself); the grader reads that
report with ``report()`` in the same request's ``user_expressions``. This is a tripwire inside
the student's own process, not a security boundary: see docs/grading.md.
"""


def _install(preimports):  # noqa: C901 - one closure keeps the pristine references together
    import builtins
    import json
    import sys
    import threading
    import types

    _getattr, _setattr, _delattr, _isinstance, _callable = getattr, setattr, delattr, isinstance, callable
    _id, _len, _list, _dict, _sorted, _type, _str = id, len, list, dict, sorted, type, str
    _ModuleType = types.ModuleType
    _MethodType = types.MethodType
    import functools
    _code_types = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.BuiltinMethodType,
                   functools.partial, type)

    def same(a, b):
        """Identity, except that a freshly bound method of the same function and object is the same."""
        if a is b:
            return True
        if _isinstance(a, _MethodType) and _isinstance(b, _MethodType):
            return a.__func__ is b.__func__ and a.__self__ is b.__self__
        return False

    def code(v):
        return _isinstance(v, _code_types)

    MISSING = object()
    _settrace, _setprofile, _gettrace, _getprofile = sys.settrace, sys.setprofile, sys.gettrace, sys.getprofile
    _tsettrace, _tsetprofile = threading.settrace, threading.setprofile
    _json_dumps = json.dumps

    for name in preimports:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001 - the locked cell will report it
            pass

    exact = {"builtins", "math", "cmath", "operator", "functools", "unittest", "traceback", "warnings", "json"}

    # NumPy's build-time tools (the Fortran wrapper generator, distutils, PyInstaller hooks) never
    # run while a notebook computes; left out, they no longer make a third of the checked functions
    build_tools = ("numpy.f2py", "numpy.distutils", "numpy._pyinstaller")

    def protected(name):
        if any(name == tool or name.startswith(tool + ".") for tool in build_tools):
            return False
        return name in exact or name.split(".")[0] in ("numpy", "utils", "unittest")

    modules = {}
    for name, mod in _list(sys.modules.items()):
        if _isinstance(mod, _ModuleType) and protected(name):
            d = mod.__dict__
            modules[name] = (mod, {k: v for k, v in d.items()
                                   if _callable(v) or _isinstance(v, _ModuleType) or name == "builtins"})

    # function bodies can be swapped without replacing the function object: keep their code too
    _FunctionType = types.FunctionType
    bodies = []
    seen = set()
    for name, (mod, snap) in modules.items():
        for v in snap.values():
            if _isinstance(v, _FunctionType) and _id(v) not in seen:
                seen.add(_id(v))
                bodies.append((v, v.__code__, v.__defaults__, v.__kwdefaults__))

    sys_names = ("excepthook", "displayhook", "exit", "stdout", "stderr", "breakpointhook", "unraisablehook")
    sys_attrs = {n: _getattr(sys, n) for n in sys_names if hasattr(sys, n)}
    meta_path = _list(sys.meta_path)
    path_hooks = _list(sys.path_hooks)

    shell = get_ipython()  # noqa: F821 - defined in the kernel
    kernel = _getattr(shell, "kernel", None)
    objects = [o for o in (shell, kernel, _getattr(kernel, "session", None), _getattr(shell, "displayhook", None),
                           _getattr(shell, "display_pub", None), _getattr(shell, "input_transformer_manager", None),
                           _getattr(shell, "events", None)) if o is not None]
    classes = {}
    for obj in objects:
        for cls in _type(obj).__mro__:
            if cls is not object and cls not in classes:
                classes[cls] = _dict(cls.__dict__)
    instances = [(obj, _dict(obj.__dict__)) for obj in objects]
    lists = []
    for owner, attr in ((shell, "ast_transformers"), (shell, "input_transformers_post"),
                        (shell, "input_transformers_cleanup")):
        value = _getattr(owner, attr, None)
        if _isinstance(value, _list):
            lists.append((value, _list(value)))
    itm = _getattr(shell, "input_transformer_manager", None)
    for attr in ("cleanup_transforms", "line_transforms", "token_transformers"):
        value = _getattr(itm, attr, None)
        if _isinstance(value, _list):
            lists.append((value, _list(value)))
    events = _getattr(shell, "events", None)
    callbacks = {k: (v, _list(v)) for k, v in _getattr(events, "callbacks", {}).items()}
    custom_exc = (shell.custom_exceptions, shell.CustomTB)

    user_ns = shell.user_ns
    bound = {}
    reached_nonces = set()

    # Fast paths: C-level identity comparisons (map/operator.is_) that confirm nothing changed.
    # Only when one fails does the item-by-item code below run; it alone decides what is wrong.
    import itertools
    import operator
    _is, _repeat, _all, _map, _frozenset = operator.is_, itertools.repeat, all, map, frozenset
    # One C-level pass over every module entry when nothing changed (the usual case). Bound
    # methods are compared with same() (ipykernel rebinds builtins.input for every request);
    # everything else must be the very object recorded.
    entries = [(mod.__dict__, k, v) for mod, snap in modules.values() for k, v in snap.items()]
    flat_dicts, flat_keys, flat_values = (tuple(column) for column in
                                          zip(*(e for e in entries if not _isinstance(e[2], _MethodType))))
    flat_methods = tuple(e for e in entries if _isinstance(e[2], _MethodType))
    _dict_get = _dict.get
    module_names = tuple(modules)
    module_objects = tuple(mod for mod, snap in modules.values())
    module_dicts = tuple(mod.__dict__ for mod in module_objects)
    builtins_keys = _frozenset(builtins.__dict__)
    # Names a module has beyond its snapshot that restore() leaves alone (submodules imported
    # later, constants): each module's full key set and those names' values as restore() last
    # left them. Unchanged since then, restore() has nothing to do for that module.
    known = {name: [_frozenset(mod.__dict__), ()] for name, (mod, snap) in modules.items()}
    known_flat = [None]
    _eq, _dict_keys = operator.eq, _dict.keys

    def remember_extras(name, mod):
        """After restore() has dealt with ``mod``: record the names it keeps beyond the snapshot."""
        d = mod.__dict__
        snap = modules[name][1]
        known[name] = [_frozenset(d), tuple((k, d[k]) for k in d if k not in snap)]
        known_flat[0] = None

    def extras_intact():
        if known_flat[0] is None:
            items = [(modules[n][0].__dict__, k, v) for n in module_names for k, v in known[n][1]]
            known_flat[0] = (tuple(known[n][0] for n in module_names), tuple(i[0] for i in items),
                             tuple(i[1] for i in items), tuple(i[2] for i in items))
        keysets, dicts, keys, values = known_flat[0]
        return (_all(_map(_eq, _map(_dict_keys, module_dicts), keysets))
                and _all(_map(_is, _map(_dict_get, dicts, keys, _repeat(MISSING)), values)))

    def all_modules_intact(every_name=False):
        """No module entry changed and ``sys.modules`` still holds every module; builtins has no
        name it did not have; with ``every_name``, no module has a name restore() would remove."""
        return (_all(_map(_is, _map(_dict_get, flat_dicts, flat_keys, _repeat(MISSING)), flat_values))
                and _all(same(d.get(k, MISSING), v) for d, k, v in flat_methods)
                and _all(_map(_is, _map(sys.modules.get, module_names), module_objects))
                and builtins.__dict__.keys() == builtins_keys
                and (not every_name or extras_intact()))
    cls_keys = {cls: (tuple(snap), tuple(snap.values())) for cls, snap in classes.items()}
    funcs = tuple(b[0] for b in bodies)
    body_parts = [(operator.attrgetter(attr), tuple(b[i] for b in bodies))
                  for i, attr in ((1, "__code__"), (2, "__defaults__"), (3, "__kwdefaults__"))]

    def bodies_intact():
        return _all(_all(_map(_is, _map(get, funcs), parts)) for get, parts in body_parts)

    def class_intact(cls):
        keys, values = cls_keys[cls]
        d = cls.__dict__
        return _len(d) == _len(keys) and _all(_map(_is, _map(d.get, keys, _repeat(MISSING)), values))

    def instance_intact(d, snap):
        return _all(_map(_is, _map(snap.get, d, _repeat(MISSING)), d.values()))

    def _problems(exclude):
        bad = []
        for name, (mod, snap) in (() if all_modules_intact() else modules.items()):
            if sys.modules.get(name) is not mod:
                bad.append(f"sys.modules[{name!r}] was replaced")
            d = mod.__dict__
            for k, v in snap.items():
                if not same(d.get(k, MISSING), v):
                    bad.append(f"{name}.{k} was changed")
                    break
            if name == "builtins":
                extra = [k for k in d if k not in snap]
                if extra:
                    bad.append(f"builtins.{extra[0]} was added")
        for f, c, d, k in (() if bodies_intact() else bodies):
            if f.__code__ is not c or f.__defaults__ is not d or f.__kwdefaults__ is not k:
                bad.append(f"the code of {f.__module__}.{f.__qualname__} was changed")
                break
        for n, v in sys_attrs.items():
            if not same(_getattr(sys, n, None), v):
                bad.append(f"sys.{n} was replaced")
        if sys.meta_path != meta_path or sys.path_hooks != path_hooks:
            bad.append("the import system was changed")
        if _gettrace() is not None or _getprofile() is not None:
            bad.append("a trace or profile function was installed")
        for cls, snap in classes.items():
            if class_intact(cls):
                continue
            d = cls.__dict__
            if _len(d) != _len(snap) or any(not same(d.get(k, MISSING), v) for k, v in snap.items()):
                bad.append(f"class {cls.__name__} was changed")
        for obj, snap in instances:
            d = obj.__dict__
            if instance_intact(d, snap):
                continue
            for k, v in d.items():
                old = snap.get(k, MISSING)
                if not same(old, v) and (code(v) or code(old)):
                    bad.append(f"{_type(obj).__name__}.{k} was replaced")
                    break
        for lst, items in lists:
            if _len(lst) != _len(items) or any(a is not b for a, b in zip(lst, items)):
                bad.append("an input or AST transformer was installed")
        for k, (lst, items) in callbacks.items():
            if _getattr(events, "callbacks", {}).get(k) is not lst or lst != items:
                bad.append(f"an IPython event callback ({k}) was registered")
        if (shell.custom_exceptions, shell.CustomTB) != custom_exc:
            bad.append("a custom exception handler was installed")
        for n, v in bound.items():
            if n not in exclude and user_ns.get(n, MISSING) is not v:
                bad.append(f"the name {n!r} was rebound")
                break
        return bad

    import time as _time
    _clock = _time.perf_counter
    spent = [0.0]  # seconds this guard has used (reported, so the grader can count it as its own)

    def restore():
        """Put every pristine reference back (the order matters: builtins and sys first)."""
        t0 = _clock()
        try:
            _restore()
        finally:
            spent[0] += _clock() - t0

    def _restore():
        _settrace(None)
        _setprofile(None)
        _tsettrace(None)
        _tsetprofile(None)
        for name, (mod, snap) in (() if all_modules_intact(every_name=True) else modules.items()):
            if sys.modules.get(name) is not mod:
                sys.modules[name] = mod
            d = mod.__dict__
            for k, v in snap.items():
                if not same(d.get(k, MISSING), v):
                    d[k] = v
            if name == "builtins":
                for k in [k for k in d if k not in snap]:
                    del d[k]
            else:
                for k in [k for k, v in d.items() if k not in snap and not k.startswith("__")
                          and _callable(v) and not _isinstance(v, _ModuleType)]:
                    del d[k]
                remember_extras(name, mod)
        for f, c, d, k in (() if bodies_intact() else bodies):
            if f.__code__ is not c or f.__defaults__ is not d or f.__kwdefaults__ is not k:
                f.__code__, f.__defaults__, f.__kwdefaults__ = c, d, k
        for n, v in sys_attrs.items():
            if not same(_getattr(sys, n, None), v):
                _setattr(sys, n, v)
        sys.meta_path[:] = meta_path
        sys.path_hooks[:] = path_hooks
        for cls, snap in classes.items():
            if class_intact(cls):
                continue
            d = cls.__dict__
            for k in [k for k in d if k not in snap]:
                try:
                    _delattr(cls, k)
                except (AttributeError, TypeError):
                    pass
            for k, v in snap.items():
                if d.get(k, MISSING) is not v:
                    try:
                        _setattr(cls, k, v)
                    except (AttributeError, TypeError):
                        pass
        for obj, snap in instances:
            d = obj.__dict__
            if instance_intact(d, snap):
                continue
            for k in _list(d):
                old = snap.get(k, MISSING)
                v = d[k]
                if not same(old, v) and (code(v) or code(old)):
                    if old is MISSING:
                        del d[k]
                    else:
                        d[k] = old
        for lst, items in lists:
            lst[:] = items
        if events is not None:
            cb = events.callbacks
            for k, (lst, items) in callbacks.items():
                lst[:] = items
                cb[k] = lst
        shell.custom_exceptions, shell.CustomTB = custom_exc
        for n, v in bound.items():
            user_ns[n] = v

    def record(names):
        for n in names:
            if n.startswith("*"):  # "from module import *": the module's public names
                mod = sys.modules.get(n[1:])
                public = _getattr(mod, "__all__", None) or [k for k in _getattr(mod, "__dict__", {}) if k[:1] != "_"]
                for k in public:
                    if k in user_ns and user_ns[k] is _getattr(mod, k, MISSING):
                        bound[k] = user_ns[k]
            elif n in user_ns:
                bound[n] = user_ns[n]

    last = [""]

    def verify(nonce, exclude=()):
        """Run as code (inside IPython's execution context, like setup and restore); the grader
        reads the answer with ``report()``."""
        bad = _problems(set(exclude))
        if nonce not in reached_nonces:
            bad.insert(0, "the test did not run to its end")
        reached_nonces.clear()
        last[0] = _json_dumps({"nonce": nonce, "problems": bad[:5], "spent": spent[0]})

    def reached(nonce, exclude=(), value=None):
        """The epilogue of a graded test: the test got here; check what it relied on."""
        t0 = _clock()
        reached_nonces.add(nonce)
        verify(nonce, exclude)
        spent[0] += _clock() - t0
        return value

    def recorded(names, value=None):
        """The epilogue of an instructor's locked cell: remember the names it bound."""
        t0 = _clock()
        record(names)
        spent[0] += _clock() - t0
        return value

    def report():
        answer, last[0] = last[0], ""
        return answer

    guard = _ModuleType("__course_guard__")
    guard.restore, guard.record, guard.verify, guard.report = restore, record, verify, report
    guard.reached, guard.recorded = reached, recorded
    sys.modules["__course_guard__"] = guard
    return "ok"
