"""Reading notebook cells as Python: what a cell imports (for the kernel zygote's preload)."""
import ast


def python_source(source):
    """The cell as plain Python: IPython syntax (magics, ``!cmd``) translated the way IPython does."""
    try:
        ast.parse(source)
        return source
    except SyntaxError:
        pass
    try:
        from IPython.core.inputtransformer2 import TransformerManager
        translated = TransformerManager().transform_cell(source)
        ast.parse(translated)
        return translated
    except Exception:  # noqa: BLE001 - a real syntax error: the cell fails anyway
        return source


def imported_modules(source):
    """Absolute module names imported by a cell."""
    try:
        tree = ast.parse(python_source(source))
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
    return found
