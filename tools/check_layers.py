#!/usr/bin/env python3
"""Checks the include graph of the tree against the layering (issue 15).

Bazel visibility keeps a target from depending on a forbidden target; this
checks what Bazel does not see with gcc (no layering_check): the #include
lines themselves.

  1. Folders point one way. Allowed arrows (a folder may include itself and
     anything to its right on its line):
        core          -> (core only)
        store_sqlite  -> core
        transport_zmq -> core
        transport_sim -> core
        sim           -> transport_sim, store_sqlite, core
        node          -> transport_zmq, store_sqlite, core
        tests, fuzz, tools: anything
  2. No include circle between modules (foo.h and foo.cc are one module):
     e.g. simulation.cc including swarm.h while swarm.h includes
     simulation.h is a circle.

Usage: check_layers.py [ROOT]   (default: the tree this file is in)
Exit 0 when clean; 1 with one line per finding.
"""
import os
import re
import sys

ALLOWED = {
    "core": {"core"},
    "store_sqlite": {"store_sqlite", "core"},
    "transport_zmq": {"transport_zmq", "core"},
    "transport_sim": {"transport_sim", "core"},
    "sim": {"sim", "transport_sim", "store_sqlite", "core"},
    "node": {"node", "transport_zmq", "store_sqlite", "core"},
}
TOP = set(ALLOWED) | {"tests", "fuzz", "tools"}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources(root):
    for top in sorted(TOP):
        base = os.path.join(root, top)
        for d, dirs, files in os.walk(base):
            dirs[:] = sorted(x for x in dirs if not x.startswith("bazel-"))
            for f in sorted(files):
                if f.endswith((".h", ".cc")):
                    path = os.path.join(d, f)
                    yield os.path.relpath(path, root)


def module(path):
    return re.sub(r"(_test)?\.(h|cc)$", "", path) if not path.endswith("_test.cc") else path


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
    findings = []
    graph = {}
    files = list(sources(root))
    known = set(files)
    for path in files:
        text = open(os.path.join(root, path), encoding="utf-8", errors="replace").read()
        top = path.split(os.sep)[0]
        for inc in INCLUDE.findall(text):
            if inc.endswith(".pb.h"):
                inc_src = inc[:-len(".pb.h")] + ".proto"
            else:
                inc_src = inc
            inc_top = inc.split("/")[0]
            if inc_top in TOP and top in ALLOWED and inc_top not in ALLOWED[top]:
                findings.append(f"{path}: includes {inc} ({top}/ may not depend on {inc_top}/)")
            if inc in known:
                graph.setdefault(module(path), set()).add(module(inc))
    # Circles between modules (a module's own .cc including its .h is not one).
    state = {}
    stack = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if n == m:
                continue
            if state.get(n) == 1:
                findings.append("include circle: " + " -> ".join(stack[stack.index(n):] + [n]))
            elif n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)
    for f in findings:
        print(f)
    print(f"checked {len(files)} files: {len(findings)} finding(s)")
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
