"""Reachability: the target function plus every helper function, file-scope variable, constant, table, typedef,
struct and enum it reaches, transitively. Everything else in the file (``main``, other kernels, unused
declarations of the stand-in headers) is dropped.

The order is a dependency order independent of the file's layout: a depth-first walk from the target over the
names in order of first use, each entity emitted after the entities it uses (so the target comes last).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pycparser import c_ast

from nsc.frontend.index import FileIndex
from nsc.frontend.names import Resolution, resolve


@dataclass
class Reached:
    target: c_ast.FuncDef
    exts: list[c_ast.Node] = field(default_factory=list)             # user top-level nodes, target last
    resolutions: dict[int, Resolution] = field(default_factory=dict)  # id(ext) -> its names

    @property
    def functions(self) -> list[c_ast.FuncDef]:
        return [e for e in self.exts if isinstance(e, c_ast.FuncDef)]

    def resolution(self, ext: c_ast.Node) -> Resolution:
        return self.resolutions[id(ext)]


def reach(target: c_ast.FuncDef, index: FileIndex) -> Reached:
    result = Reached(target)
    visiting: set[int] = set()

    def visit(ext: c_ast.Node) -> None:
        visiting.add(id(ext))
        resolution = resolve(ext)
        result.resolutions[id(ext)] = resolution
        for ref in resolution.free():
            entity = index.lookup(ref.name)
            if entity is None or entity.library or entity.kind == "prototype":
                continue  # undeclared names and undefined functions are reported by checks.py
            if id(entity.ext) not in visiting:
                visit(entity.ext)
        result.exts.append(ext)

    visit(target)
    return result
