"""State the target keeps between calls: file-scope variables and static locals that the reached code writes.

A surrogate models one call of the function as a function of its inputs. A function that writes a global
(`static double acc; acc += x; return acc;`) would make every sample depend on the calls before it, so the harness
puts each file-scope variable listed here back to its initial value before every call (execute/harness.py):
every sample is one call from the program's initial state, as the analyses read the program. A static local
cannot be reached from outside its function, so it is only reported (`written_state` returns it for a warning).

The C library's random number generators keep state of their own (`random_calls`): a function that calls them
gives different outputs for the same inputs, which is reported too.

Only writes that name the variable are seen (`g = ...`, `g[i] += ...`, `g++`); a write through a pointer to it
is not (such a pointer would have to be a file-scope value the analyses already treat as unknown).
"""

from __future__ import annotations

from pycparser import c_ast

from nsc.frontend.index import FileIndex
from nsc.frontend.reach import Reached

_INC_DEC = ("++", "--", "p++", "p--")
RANDOM_CALLS = frozenset({"rand", "random", "drand48", "lrand48", "mrand48", "arc4random", "arc4random_uniform"})


def _written_name(node: c_ast.Node) -> c_ast.ID | None:
    """The identifier an assignment target names (`g`, `g[i][j]`, `g.m`), or None (`*p`, `p->m`)."""
    while isinstance(node, (c_ast.ArrayRef, c_ast.StructRef)):
        if isinstance(node, c_ast.StructRef) and node.type == "->":
            return None
        node = node.name
    return node if isinstance(node, c_ast.ID) else None


def _assignment_targets(ext: c_ast.Node):
    stack = [ext]
    while stack:
        node = stack.pop()
        if isinstance(node, c_ast.Assignment):
            yield node.lvalue
        elif isinstance(node, c_ast.UnaryOp) and node.op in _INC_DEC:
            yield node.expr
        stack.extend(reversed([child for _, child in node.children()]))  # (source order)


def written_state(reached: Reached, index: FileIndex) -> tuple[list[str], list[tuple[str, object]]]:
    """(file-scope variables the reached functions write, in first-write order; written static locals as
    (name, coord))."""
    globals_, statics = [], []
    for fn in reached.functions:
        resolution = reached.resolution(fn)
        for target in _assignment_targets(fn.body):
            ident = _written_name(target)
            if ident is None:
                continue
            binding = resolution.by_node.get(id(ident))
            if binding is None:
                entity = index.lookup(ident.name)
                if entity is not None and entity.kind == "variable" and not entity.library \
                        and ident.name not in globals_:
                    globals_.append(ident.name)
            elif binding.kind == "local" and "static" in (getattr(binding.node, "storage", None) or []) \
                    and all(name != ident.name for name, _ in statics):
                statics.append((ident.name, binding.node.coord))
    return globals_, statics


def random_calls(reached: Reached) -> list[str]:
    """The C library's random number generators the reached functions call (their state is hidden)."""
    names = []
    for fn in reached.functions:
        for ref in reached.resolution(fn).free():
            if ref.is_call and ref.name in RANDOM_CALLS and ref.name not in names:
                names.append(ref.name)
    return names
