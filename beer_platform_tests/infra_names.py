"""Static checks of infra/ against `ResourceNames`, by parsing the HCL with python-hcl2.

Test-only helpers (the runtime package never parses Terraform). The comparison functions take
parsed documents, so a test can feed them a modified copy and see drift being reported.
"""

from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import hcl2

REPO_ROOT = Path(__file__).resolve().parents[1]
INFRA_DIR = REPO_ROOT / "infra"

try:  # python-hcl2 >= 8
    from hcl2.utils import SerializationOptions

    _LOAD_KWARGS: dict[str, Any] = {
        "serialization_options": SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    }
    _STRIP_QUOTES = False
except ImportError:  # python-hcl2 7.x: plain loads, string values may keep their quotes
    _LOAD_KWARGS = {}
    _STRIP_QUOTES = True


def _unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    if isinstance(value, dict):
        return {_unquote(k): _unquote(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unquote(v) for v in value]
    return value


def loads(text: str) -> dict[str, Any]:
    """Parse HCL text into plain Python values (unquoted strings, blocks as lists of dicts)."""
    doc = hcl2.loads(text, **_LOAD_KWARGS)
    return _unquote(doc) if _STRIP_QUOTES else doc


def load(path: Path) -> dict[str, Any]:
    return loads(path.read_text(encoding="utf-8"))


def blocks(doc: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """`variable "x" {...}` blocks (or outputs, modules...) of a parsed document, by label."""
    found: dict[str, dict[str, Any]] = {}
    for entry in doc.get(kind, []):
        for label, body in entry.items():
            if label.startswith("__"):
                continue
            found[label] = body
    return found


def labelled_resources(doc: dict[str, Any], kind: str = "resource") -> dict[tuple[str, str], dict[str, Any]]:
    """`resource "type" "name" {...}` blocks, by (type, name)."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in doc.get(kind, []):
        for rtype, named in entry.items():
            if rtype.startswith("__"):
                continue
            for name, body in named.items():
                if not name.startswith("__"):
                    found[(rtype, name)] = body
    return found


def expected_names(names: Any) -> dict[str, Any]:
    """Field name -> default value of a ResourceNames instance."""
    return {f.name: getattr(names, f.name) for f in fields(names)}


def _same(a: Any, b: Any) -> bool:
    # bool is an int in Python: keep `true` from passing for 1 and "2" from passing for 2.
    return type(a) is type(b) and a == b or (
        isinstance(a, (int, float)) and isinstance(b, (int, float))
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b
    )


def names_drift(names: Any, variables_doc: dict[str, Any], outputs_doc: dict[str, Any]) -> list[str]:
    """Every way infra/'s root variables and outputs disagree with `names`; empty when in sync."""
    problems: list[str] = []
    variables = blocks(variables_doc, "variable")
    outputs = blocks(outputs_doc, "output")
    for field, value in expected_names(names).items():
        var = variables.get(field)
        if var is None:
            problems.append(f"variable {field!r} missing (ResourceNames.{field} = {value!r})")
        elif "default" not in var:
            problems.append(f"variable {field!r} has no default (ResourceNames.{field} = {value!r})")
        elif not _same(var["default"], value):
            problems.append(
                f"variable {field!r} default {var['default']!r} != ResourceNames.{field} {value!r}"
            )
        if field not in outputs:
            problems.append(f"output {field!r} missing")
        elif "value" not in outputs[field]:
            problems.append(f"output {field!r} has no value")
    return problems


_REGEX_VALIDATION = re.compile(r'^\$\{can\(regex\("(?P<pattern>(?:[^"\\]|\\.)*)", var\.(?P<var>\w+)\)\)\}$')


def regex_validation_failures(variables_doc: dict[str, Any]) -> list[str]:
    """Defaults that fail their own `can(regex("...", var.x))` validation (simple conditions only)."""
    failures = []
    for name, body in blocks(variables_doc, "variable").items():
        if "default" not in body or not isinstance(body["default"], str):
            continue
        for validation in body.get("validation", []):
            match = _REGEX_VALIDATION.match(str(validation.get("condition", "")))
            if not match or match["var"] != name:
                continue
            pattern = match["pattern"].replace("\\\\", "\\")
            if not re.search(pattern, body["default"]):
                failures.append(f"{name}: default {body['default']!r} fails /{pattern}/")
    return failures


def module_sources(main_doc: dict[str, Any]) -> dict[str, str]:
    """Module label -> source of the root module's `module` blocks."""
    return {label: body.get("source", "") for label, body in blocks(main_doc, "module").items()}


def tf_files(infra_dir: Path = INFRA_DIR) -> list[Path]:
    return sorted(p for p in infra_dir.rglob("*.tf") if ".terraform" not in p.parts)


def module_dir_docs(module_dir: Path) -> list[dict[str, Any]]:
    return [load(p) for p in sorted(module_dir.glob("*.tf"))]
