"""The asset graph as a Mermaid flowchart, made from the Definitions (the README's picture).

    python -m beer_platform.graph_picture            # print it
    python -m beer_platform.graph_picture --write    # replace the picture in README.md

One box per asset, in a frame per group, with its kinds (and "per day" when it is partitioned);
an arrow per dependency. A test fails when README.md's picture differs from what this makes.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from dagster import Definitions

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"```mermaid\n.*?```\n", re.DOTALL)
LEFT_OUT_KINDS = {"python"}  # on every computed asset: says nothing


def mermaid(defs: Definitions) -> str:
    """The flowchart of `defs`' assets as a fenced Mermaid block, ending with a newline."""
    graph = defs.resolve_asset_graph()
    keys = list(graph.toposorted_asset_keys)
    groups: dict[str, list[str]] = {}
    for key in keys:
        node = graph.get(key)
        kinds = ", ".join(sorted(set(node.kinds) - LEFT_OUT_KINDS))
        per_day = ", per day" if node.is_partitioned else ""
        shape = ('(["', '"])') if not node.is_materializable else ('["', '"]')  # a source: rounded
        name = key.to_user_string()
        groups.setdefault(node.group_name, []).append(f"{name}{shape[0]}{name}<br/><i>{kinds}{per_day}</i>{shape[1]}")
    lines = ["```mermaid", "flowchart LR"]
    for group, boxes in groups.items():
        lines += [f"  subgraph group_{group} [{group}]", *(f"    {box}" for box in boxes), "  end"]
    lines += [f"  {parent.to_user_string()} --> {key.to_user_string()}"
              for key in keys for parent in sorted(graph.get(key).parent_keys, key=keys.index)]  # fmt: skip
    return "\n".join([*lines, "```"]) + "\n"


def pictured_in(text: str) -> str | None:
    """The first Mermaid block of a Markdown text, None if it has none."""
    found = BLOCK.search(text)
    return found.group(0) if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m beer_platform.graph_picture", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"replace the Mermaid block of {README.name}")
    args = parser.parse_args(argv)
    from beer_platform.definitions import defs

    picture = mermaid(defs)
    if not args.write:
        sys.stdout.write(picture)
        return 0
    text = README.read_text()
    if pictured_in(text) is None:
        print(f"{README} has no ```mermaid block to replace", file=sys.stderr)
        return 1
    README.write_text(BLOCK.sub(lambda _: picture, text, count=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
