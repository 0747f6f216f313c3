"""Canonical form of the reached code: what stays when names, layout and spelling are forgotten.

Works on deep copies of the reached top-level nodes (the originals are left alone) and renames:
  the target function -> ``target``; its parameters -> ``p0``..; helper functions -> ``f0``.. and their
  parameters -> ``q0``..; locals (per function, in order of declaration) -> ``v0``..; labels -> ``l0``..;
  file-scope variables, constants, tables and enum constants -> ``g0``..; struct/union/enum tags -> ``s0``..;
  struct members -> ``m0``..; typedefs of non-scalar types -> ``t0``..
Numbering follows the dependency order of reach.py (helpers before their users, target last).
Typedefs of scalar types are replaced by the canonical scalar type (``real_t`` -> ``double``) and dropped;
names from nsc's stand-in headers (``sin``, ``M_PI``'s value, ``FILE``) keep their spelling.
Linkage-only keywords (``static``/``extern`` at file scope, ``inline``, ``register``, ``auto``) are dropped
and qualifier lists sorted; a braced block holding one statement as the body of if/for/while/do is
unwrapped. For the tokens (not for the analysis, which needs every entry of a table), `cut_initialisers`
keeps the first 16 elements of a longer initialiser list and ends it with a marker for ``<more>`` (tokens.py).
"""

from __future__ import annotations

from pycparser import c_ast

from nsc.frontend import c_types
from nsc.frontend.index import FileIndex
from nsc.frontend.names import BASE_TYPE_WORDS, resolve
from nsc.frontend.reach import Reached

MAX_INITIALISER = 16
MORE_MARKER = "__nsc_more_"   # an ID named MORE_MARKER + str(n) stands for a list of n elements, cut short
TARGET_NAME = "target"


class _Names:
    """The file-scope renaming table, filled in emission order."""

    def __init__(self):
        self.globals: dict[str, str] = {}       # identifier or "struct S" -> new name
        self.members: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def fresh(self, prefix: str) -> str:
        n = self.counts.get(prefix, 0)
        self.counts[prefix] = n + 1
        return f"{prefix}{n}"

    def add(self, name: str, prefix: str) -> None:
        if name not in self.globals:
            self.globals[name] = self.fresh(prefix)

    def member(self, name: str) -> str:
        if name not in self.members:
            self.members[name] = f"m{len(self.members)}"
        return self.members[name]


def canonical_exts(reached: Reached, index: FileIndex) -> list[c_ast.Node]:
    """Renamed copies of the reached top-level nodes, in emission order; scalar typedefs left out."""
    names = _Names()
    scalar_typedefs = _scalar_typedefs(index)
    out = []
    for ext in reached.exts:
        if isinstance(ext, c_ast.Typedef) and ext.name in scalar_typedefs:
            continue
        _name_file_scope(ext, reached.target, names)
        node = clone(ext)
        _rename(node, ext is reached.target, names, scalar_typedefs)
        out.append(node)
    return out


def _scalar_typedefs(index: FileIndex) -> dict[str, list[str]]:
    """Every typedef name (user's or stand-in's) that stands for an unqualified scalar type -> canonical
    specifier words (a const-qualified one stays a typedef, so the const is not lost)."""
    found = {}
    for name, entities in index.entities.items():
        for entity in entities:
            if entity.kind == "typedef":
                t = c_types.resolve(entity.node.type, index)
                if t.kind == "scalar" and not t.const:
                    found[name] = t.name.split()
    return found


def _name_file_scope(ext: c_ast.Node, target: c_ast.FuncDef, names: _Names) -> None:
    """Give the file-scope names an ext declares their new names."""
    if isinstance(ext, c_ast.FuncDef):
        if ext is target:
            names.globals[ext.decl.name] = TARGET_NAME
        else:
            names.add(ext.decl.name, "f")
        type_node = ext.decl.type
    elif isinstance(ext, c_ast.Typedef):
        names.add(ext.name, "t")
        type_node = ext.type
    elif isinstance(ext, c_ast.Decl):
        if ext.name:
            names.add(ext.name, "g")
        type_node = ext.type
    else:
        return
    for node in walk(type_node):
        if isinstance(node, (c_ast.Struct, c_ast.Union, c_ast.Enum)) and node.name:
            kind = {c_ast.Struct: "struct", c_ast.Union: "union", c_ast.Enum: "enum"}[type(node)]
            names.add(f"{kind} {node.name}", "s")
        if isinstance(node, c_ast.Enumerator):
            names.add(node.name, "g")
        if isinstance(node, (c_ast.Struct, c_ast.Union)):
            for member in node.decls or []:
                if isinstance(member, c_ast.Decl) and member.name:
                    names.member(member.name)


def _rename(ext: c_ast.Node, is_target: bool, names: _Names, scalar_typedefs: dict[str, list[str]]) -> None:
    resolution = resolve(ext)
    # The file-scope name the ext itself declares.
    top = ext.decl if isinstance(ext, c_ast.FuncDef) else ext
    if isinstance(top, (c_ast.Decl, c_ast.Typedef)) and top.name in names.globals:
        _set_declared_name(top, names.globals[top.name])

    # Locals: parameters, variables, local typedefs and enum constants, labels; in declaration order.
    local_names: dict[int, str] = {}
    counters = {"param": 0, "local": 0, "label": 0}
    for b in resolution.bindings:
        group = b.kind if b.kind in ("param", "label") else "local"
        prefix = {"param": "p" if is_target else "q", "local": "v", "label": "l"}[group]
        local_names[id(b)] = f"{prefix}{counters[group]}"
        counters[group] += 1
        _set_declared_name(b.node, local_names[id(b)])
    renamed = {id(b.node) for b in resolution.bindings}

    # Uses: locals by binding, file-scope names by the table; scalar typedef names become their type.
    for ref in resolution.refs:
        new = local_names[id(ref.binding)] if ref.binding is not None else names.globals.get(ref.name)
        node = ref.node
        if isinstance(node, c_ast.IdentifierType):
            if ref.binding is None and ref.name in scalar_typedefs:
                node.names = list(scalar_typedefs[ref.name])
            elif new is not None:
                node.names = [new if n == ref.name else n for n in node.names]
        elif new is not None:
            node.name = new  # ID, or a Struct/Union/Enum tag
    for node in walk(ext):
        if isinstance(node, c_ast.Goto) and id(node) in resolution.by_node:
            node.name = local_names[id(resolution.by_node[id(node)])]
        elif isinstance(node, c_ast.Enumerator) and id(node) not in renamed:
            node.name = names.globals.get(node.name, node.name)
        _canonical_node(node, names)
    if isinstance(top, c_ast.Decl):
        top.storage = [s for s in top.storage if s not in ("static", "extern")]


def _set_declared_name(node: c_ast.Node, new: str) -> None:
    if isinstance(node, (c_ast.Decl, c_ast.Typedef)):
        node.name = new
        inner = node.type
        while not isinstance(inner, c_ast.TypeDecl) and hasattr(inner, "type"):
            inner = inner.type
        if isinstance(inner, c_ast.TypeDecl):
            inner.declname = new
    elif isinstance(node, (c_ast.Enumerator, c_ast.Label)):
        node.name = new


def _canonical_node(node: c_ast.Node, names: _Names) -> None:
    """Per-node canonicalisation that needs no scope information."""
    if isinstance(node, c_ast.IdentifierType):
        if all(n in BASE_TYPE_WORDS for n in node.names):
            scalar = c_types.canonical_scalar(node.names)
            if scalar is not None:
                node.names = scalar.split()
    elif isinstance(node, (c_ast.Struct, c_ast.Union)):
        for member in node.decls or []:
            if isinstance(member, c_ast.Decl) and member.name in names.members:
                _set_declared_name(member, names.members[member.name])
    elif isinstance(node, c_ast.StructRef) and isinstance(node.field, c_ast.ID):
        node.field.name = names.members.get(node.field.name, node.field.name)
    elif isinstance(node, c_ast.NamedInitializer):
        for designator in node.name:
            if isinstance(designator, c_ast.ID):
                designator.name = names.members.get(designator.name, designator.name)
    elif isinstance(node, (c_ast.If, c_ast.For, c_ast.While, c_ast.DoWhile)):
        for part in ("iftrue", "iffalse", "stmt"):
            body = getattr(node, part, None)
            if isinstance(body, c_ast.Compound) and body.block_items and len(body.block_items) == 1 \
                    and not isinstance(body.block_items[0], (c_ast.Decl, c_ast.Typedef)):
                setattr(node, part, body.block_items[0])  # `{ s; }` and `s;` are the same statement
    if isinstance(node, (c_ast.Decl, c_ast.TypeDecl, c_ast.PtrDecl)) and getattr(node, "quals", None):
        node.quals = sorted(set(node.quals))
    if isinstance(node, c_ast.Decl):
        node.funcspec = []
        node.storage = sorted(s for s in node.storage or [] if s not in ("register", "auto", "inline"))


def cut_initialisers(exts: list) -> list:
    """Copies of `exts` whose initialiser lists longer than MAX_INITIALISER keep their first MAX_INITIALISER
    elements and end with an ID `MORE_MARKER<n>` (n: the full length); exts are left alone."""
    if not any(isinstance(n, c_ast.InitList) and len(n.exprs) > MAX_INITIALISER for e in exts for n in walk(e)):
        return list(exts)
    out = [clone(e) for e in exts]
    for e in out:
        for node in walk(e):
            if isinstance(node, c_ast.InitList) and len(node.exprs) > MAX_INITIALISER:
                total = len(node.exprs)
                node.exprs = node.exprs[:MAX_INITIALISER] + [c_ast.ID(f"{MORE_MARKER}{total}")]
    return out


def clone(node):
    """A deep copy of a pycparser subtree (coordinates shared); much faster than copy.deepcopy."""
    new = object.__new__(type(node))
    for slot in node.__slots__:
        if slot == "__weakref__":
            continue
        value = getattr(node, slot)
        if isinstance(value, c_ast.Node):
            value = clone(value)
        elif isinstance(value, list):
            value = [clone(v) if isinstance(v, c_ast.Node) else v for v in value]
        setattr(new, slot, value)
    return new


def walk(node):
    """All nodes below (and including) `node`, in source order (iteratively: a recursive generator costs its depth
    per node, quadratic on a sum of thousands of terms)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if n is None:
            continue
        yield n
        stack.extend(child for _, child in reversed(n.children()))
