"""The file-scope index: for every file-scope name, the top-level declarations that declare it.

A name may be declared several times (a prototype and a definition, ``extern`` and a definition); `lookup`
returns the one that defines it. Each entity knows whether it comes from nsc's stand-in headers (a library
name: ``sin``, ``size_t``, ``printf``) or from the user's program.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pycparser import c_ast

from nsc.frontend.preprocess import INCLUDE_DIR


@dataclass(eq=False)
class Entity:
    """One file-scope declaration of a name."""

    name: str            # an identifier, or "struct S" / "union S" / "enum S" for tags
    kind: str            # 'function', 'prototype', 'variable', 'typedef', 'enumerator', 'tag'
    ext: c_ast.Node      # the top-level node that declares it (what reachability keeps)
    node: c_ast.Node     # the declaring node itself (FuncDef, Decl, Typedef, Enumerator, Struct/Union/Enum)
    library: bool        # declared in nsc's stand-in headers

    @property
    def coord(self):
        return self.node.coord


# Preference when a name has several declarations: a definition beats a declaration.
_RANK = {"function": 0, "tag": 0, "typedef": 0, "enumerator": 0, "variable": 1, "prototype": 2}


def is_library_node(node: c_ast.Node) -> bool:
    """Whether a node comes from nsc's stand-in headers."""
    coord = getattr(node, "coord", None)
    return bool(coord and coord.file and os.path.dirname(os.path.abspath(coord.file)) == INCLUDE_DIR)


class FileIndex:
    """Index of the top-level declarations of a FileAST."""

    def __init__(self, ast: c_ast.FileAST):
        self.ast = ast
        self.entities: dict[str, list[Entity]] = {}
        for ext in ast.ext:
            library = is_library_node(ext)
            if isinstance(ext, c_ast.FuncDef):
                self._add(Entity(ext.decl.name, "function", ext, ext, library))
                self._add_tags(ext.decl.type, ext, library)
            elif isinstance(ext, c_ast.Decl):
                if ext.name:
                    if isinstance(ext.type, c_ast.FuncDecl):
                        kind = "prototype"
                    else:
                        kind = "variable"
                    self._add(Entity(ext.name, kind, ext, ext, library))
                self._add_tags(ext.type, ext, library)
            elif isinstance(ext, c_ast.Typedef):
                self._add(Entity(ext.name, "typedef", ext, ext, library))
                self._add_tags(ext.type, ext, library)

    def _add(self, entity: Entity) -> None:
        self.entities.setdefault(entity.name, []).append(entity)

    def _add_tags(self, type_node, ext, library: bool) -> None:
        """Struct/union/enum definitions inside a declaration's type, and enum constants."""
        node = type_node
        while isinstance(node, (c_ast.TypeDecl, c_ast.PtrDecl, c_ast.ArrayDecl, c_ast.FuncDecl)):
            node = node.type
        if isinstance(node, (c_ast.Struct, c_ast.Union)) and node.decls is not None and node.name:
            kind = "struct" if isinstance(node, c_ast.Struct) else "union"
            self._add(Entity(f"{kind} {node.name}", "tag", ext, node, library))
        elif isinstance(node, c_ast.Enum) and node.values is not None:
            if node.name:
                self._add(Entity(f"enum {node.name}", "tag", ext, node, library))
            for e in node.values.enumerators:
                self._add(Entity(e.name, "enumerator", ext, e, library))

    def lookup(self, name: str) -> Entity | None:
        """The entity that defines `name` (a definition over declarations; the last one among equals)."""
        found = self.entities.get(name)
        if not found:
            return None
        best = None
        for entity in found:
            if best is None or _rank(entity) <= _rank(best):
                best = entity
        return best

    def function_definitions(self) -> list[c_ast.FuncDef]:
        """The user's function definitions (not the stand-ins'), in file order."""
        return [ext for ext in self.ast.ext if isinstance(ext, c_ast.FuncDef) and not is_library_node(ext)]

    def typedef(self, name: str) -> c_ast.Typedef | None:
        entity = self.lookup(name)
        return entity.node if entity is not None and entity.kind == "typedef" else None

    def enum_of(self, enumerator: c_ast.Enumerator) -> c_ast.Enum | None:
        for entity in self.entities.get(enumerator.name, []):
            if entity.node is enumerator:
                node = entity.ext.type if not isinstance(entity.ext, c_ast.FuncDef) else entity.ext.decl.type
                while isinstance(node, (c_ast.TypeDecl, c_ast.PtrDecl, c_ast.ArrayDecl, c_ast.FuncDecl)):
                    node = node.type
                return node if isinstance(node, c_ast.Enum) else None
        return None


def _rank(entity: Entity) -> int:
    rank = _RANK[entity.kind]
    if entity.kind == "variable" and entity.node.init is not None:
        rank = 0
    if entity.kind == "variable" and "extern" in (entity.node.storage or []):
        rank = 2
    return rank
