"""Code versions derived from source: an asset's version changes when the code that computes it does.

The version hashes the asset function's own source, the module-level helpers of its module that
it calls, and every platform module it uses, followed through their imports (function-local ones
included). The Dagster wiring (this package, resources, definitions, ...) is left out: it says
when and with what an asset runs, not how its data is made. So editing `training/card_model.py` changes
`ibu_model`'s version (and the model retrains), while editing an unrelated stage does not.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import inspect
import sys
from collections.abc import Callable
from functools import cache

ROOT = "beer_platform"
# Wiring, not computation: never part of a version (the asset's own module is read per function).
WIRING = ("beer_platform.assets", "beer_platform.resources", "beer_platform.automation",
          "beer_platform.definitions", "beer_platform.runner", "beer_platform.cli")  # fmt: skip


def source_version(fn: Callable, modules: tuple[str, ...] = ()) -> str:
    """12 hex digits of sha256 over the sources `fn` computes with (see the module docstring), and
    over `modules` and what they import (e.g. the modules declaring what a factory was given)."""
    digest = hashlib.sha256()
    sources = computed_by(fn) | {module: _module_source(module) for module in _closure(frozenset(modules))}
    for key, source in sorted(sources.items()):
        digest.update(f"{key}\n{source}\n".encode())
    return digest.hexdigest()[:12]


def computed_by(fn: Callable) -> dict[str, str]:
    """{"module:function" or "module": source} of everything `source_version` hashes for `fn`."""
    module_source = inspect.getsource(sys.modules[fn.__module__])
    tree = ast.parse(module_source)
    top_level = {node.name: node for node in tree.body
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}  # fmt: skip
    imported = _imported_names(tree, fn.__module__)
    sources: dict[str, str] = {}
    modules: set[str] = set()
    pending = [fn.__qualname__.split(".")[0]]  # a factory's inner function: the factory, whole
    while pending:
        name = pending.pop()
        key = f"{fn.__module__}:{name}"
        if key in sources or name not in top_level:
            continue
        node = top_level[name]
        sources[key] = ast.get_source_segment(module_source, node) or ""
        for used in _names_in_body(node):
            if used in top_level:
                pending.append(used)
            elif used in imported:
                modules.add(imported[used])
        modules |= _imported_modules(node, fn.__module__)
    for module in _closure(frozenset(modules)):
        sources[module] = _module_source(module)
    return sources


def _names_in_body(node: ast.AST) -> set[str]:
    """Global names read in a def's body (decorators and annotations are wiring, not work)."""
    body = node.body if hasattr(node, "body") else [node]
    return {n.id for stmt in body for n in ast.walk(stmt) if isinstance(n, ast.Name)}


def _imported_names(tree: ast.Module, importer: str) -> dict[str, str]:
    """Name bound by a top-level import -> the platform module it comes from."""
    names: dict[str, str] = {}
    for node in tree.body:
        for module, bound in _imports(node, importer):
            if _counts(module):
                names[bound] = module
    return names


def _counts(module: str) -> bool:
    return (module == ROOT or module.startswith(ROOT + ".")) and not module.startswith(WIRING)


def _imported_modules(tree: ast.AST, importer: str) -> set[str]:
    """Platform modules imported anywhere in `tree`, function-local imports included."""
    found = {module for node in ast.walk(tree) for module, _ in _imports(node, importer)}
    return {module for module in found if _counts(module)}


def _imports(node: ast.AST, importer: str) -> list[tuple[str, str]]:
    """(module, bound name) per name an import statement binds; `from pkg import module` names the
    module itself, `from module import thing` the module that holds the thing."""
    if isinstance(node, ast.Import):
        return [(alias.name, (alias.asname or alias.name).split(".")[0]) for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:  # relative: resolve against the importer's package
        package = importer.rsplit(".", node.level)[0]
        base = f"{package}.{base}" if base else package
    found = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        found.append((candidate if _is_module(candidate) else base, alias.asname or alias.name))
    return found


@cache
def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@cache
def _module_source(module: str) -> str:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None or not spec.origin.endswith(".py"):
        return ""
    with open(spec.origin, encoding="utf-8") as file:
        return file.read()


@cache
def _closure(start: frozenset[str]) -> tuple[str, ...]:
    seen: set[str] = set()
    pending = list(start)
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        pending += _imported_modules(ast.parse(_module_source(module)), module) - seen
    return tuple(sorted(seen))
