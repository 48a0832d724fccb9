"""The house's imports, file by file: which files of src/ name which others through `crate::`
paths, whether they form a cycle, and which point up the stack. Prints a summary, the cycles
and the upward imports; `--dot` prints the graph in Graphviz's language instead (the picture
CONTRIBUTING refers to: `python3 tests/imports.py --dot | dot -Tsvg > imports.svg`).

The stack, top to bottom (docs: CONTRIBUTING, "The house"): entry points; the services around
the pipeline; catalog, access, query, source, encode, sink (each calls the next, never back);
then the floor everything stands on (settings, errors, the identity switch, locks, SPI). A file
may name files of its own floor or of floors below it.

    python3 tests/imports.py [--dot] [--strict]

--strict: exit 1 when there is a cycle or an upward import (for tests/run.sh, once the house
is a stack again).
"""

import os
import re
import sys

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

# the floor of a top-level module, from the top (0) down
FLOORS = [
    ("entry points", ["lib", "generate", "api", "schedule", "semantic", "openapi", "sinp", "run", "copy", "read"]),
    ("services", ["notify", "history", "files"]),
    ("catalog", ["catalog"]),
    ("access", ["access"]),
    ("query", ["query"]),
    ("source", ["source"]),
    ("encode", ["encode"]),
    ("sink", ["sink"]),
    ("ground", ["adopted", "definer", "relation", "export", "progress", "settings", "error", "identity", "lock", "spi", "subxact", "jsonb", "fnv", "pg_compat"]),
]
FLOOR_OF = {m: i for i, (_, ms) in enumerate(FLOORS) for m in ms}


def module_files():
    """{module path (tuple of names): file path} for every .rs file under src/."""
    out = {}
    for d, _, fs in os.walk(SRC):
        for f in fs:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(d, f), SRC)[:-3].split(os.sep)
            if rel[-1] == "mod":
                rel = rel[:-1]
            if rel == ["lib"]:
                rel = []
            out[tuple(rel)] = os.path.join(d, f)
    return out


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def references(text):
    """Every module path a file names with `crate::`, including `use crate::a::{b, c::d}`."""
    refs = []
    for m in re.finditer(r"crate::((?:\w+::)*)(\{[^;]*?\}|\w+)", text):
        head = [p for p in m.group(1).split("::") if p]
        tail = m.group(2)
        if tail.startswith("{"):
            for item in re.split(r"[,\s]+", tail.strip("{}")):
                item = item.split(" as ")[0].strip()
                if item and item != "self":
                    refs.append(head + [p for p in item.split("::") if p and p not in "{}"])
                elif item == "self":
                    refs.append(head)
        else:
            refs.append(head + [tail])
    return refs


def resolve(path, files):
    """The longest prefix of a path that is a module with a file."""
    for n in range(len(path), 0, -1):
        if tuple(path[:n]) in files:
            return tuple(path[:n])
    return None


def graph():
    files = module_files()
    edges = set()
    for mod, f in files.items():
        for ref in references(strip_comments(open(f, encoding="utf-8").read())):
            target = resolve(ref, files)
            if target is not None and target != mod:
                edges.add((mod, target))
    return files, edges


def floor(mod):
    return FLOOR_OF.get(mod[0] if mod else "lib", 0)


def cycles(nodes, edges):
    """The strongly connected components of more than one file (Tarjan)."""
    succ = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for n in nodes:
        if n not in index:
            visit(n)
    return out


def name(mod):
    return "::".join(mod) or "lib"


def main(args):
    files, edges = graph()
    # a parent module's file naming its own children is not an import between rooms
    edges = {(a, b) for a, b in edges if not (len(b) > len(a) and b[: len(a)] == a)}
    if "--dot" in args:
        print("digraph imports {\n  rankdir=TB; node [shape=box, fontsize=10];")
        for i, (label, mods) in enumerate(FLOORS):
            members = [m for m in files if (m[0] if m else "lib") in mods]
            print(f'  subgraph cluster_{i} {{ label="{label}"; ' + " ".join(f'"{name(m)}";' for m in members) + " }")
        for a, b in sorted(edges):
            style = ' [color=red]' if floor(b) < floor(a) else ""
            print(f'  "{name(a)}" -> "{name(b)}"{style};')
        print("}")
        return 0
    up = sorted((a, b) for a, b in edges if floor(b) < floor(a))
    cyc = cycles(list(files), edges)
    print(f"files: {len(files)}, imports: {len(edges)}, upward: {len(up)}, cycles: {len(cyc)}"
          f" (largest: {max((len(c) for c in cyc), default=0)} files)")
    for a, b in up:
        print(f"up: {name(a)} ({FLOORS[floor(a)][0]}) -> {name(b)} ({FLOORS[floor(b)][0]})")
    for c in cyc:
        print("cycle: " + ", ".join(name(m) for m in c))
    return 1 if "--strict" in args and (up or cyc) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
