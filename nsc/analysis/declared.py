"""Declared types as the interpreters (linearize.py, trace.py) read them: scalars' type slots, sizes, and structs.

A declaration's *type slot* is what a variable's scope entry and a pointer (`values.Ptr.slot`) carry: an integer
type's canonical name ('unsigned char'; `convert` wraps into its range), FLOAT32 for C's float, or False for a
double. A struct is a `Layout`: its members flattened into the scalar cells of one storage, in declaration order,
nested structs and array members inline, so a struct variable is a storage as an array is, and a member is an
offset into it. A struct's value (values.Aggregate: its cells and layout) is what assignments, arguments and
returns copy. `Types` finds the layout a declared type names, through the program's typedefs and struct definitions.

Unions (members that share cells) and bit-fields are not modelled: the analysis stops with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pycparser import c_ast

from nsc.analysis.values import Aggregate, Ptr, Unsupported
from nsc.frontend.c_types import POINTER_SIZE, SCALAR_SIZES, canonical_scalar
from nsc.frontend.canonical import walk
from nsc.frontend.program import INTEGER_TYPES


class _Float32:
    """The type `float` where a type slot holds an integer type's name, or False for a floating type: false like
    that (every `if int_type:` reads it as floating), and conversions to it round to float32 (trace.py)."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "FLOAT32"


FLOAT32 = _Float32()


def slot_of(ctype: str | None) -> str | bool:
    """ctype itself if it is an integer type (`convert` wraps into its range), FLOAT32 for float, else False."""
    return ctype if ctype in INTEGER_TYPES else FLOAT32 if ctype == "float" else False


# What the analysis's reasons call pycparser's node classes (they read "a Struct variable", "type FuncDecl")
_C_NAMES = {"Struct": "a struct", "Union": "a union", "Enum": "an enum", "FuncDecl": "a function",
            "PtrDecl": "a pointer", "ArrayDecl": "an array", "StructRef": "a struct member", "Cast": "a cast",
            "CompoundLiteral": "a compound literal", "InitList": "an initialiser list", "FuncCall": "a call",
            "TernaryOp": "a ?: expression", "ExprList": "a comma expression", "Typename": "a type name",
            "NamedInitializer": "a designated initialiser"}


def c_name(node) -> str:
    name = type(node).__name__
    return _C_NAMES.get(name, f"a {name}")


def type_names(node):
    """The type specifiers a declaration ends in (['unsigned', 'int']); an enum is an int."""
    while isinstance(node, (c_ast.TypeDecl, c_ast.ArrayDecl, c_ast.PtrDecl)):
        node = node.type
    if isinstance(node, c_ast.IdentifierType):
        return node.names
    if isinstance(node, c_ast.Enum):  # an enum variable is an int
        return ["int"]
    raise Unsupported(f"{c_name(node)} type")


def scalar_slot(node) -> str | bool:
    """The type slot of a scalar declaration (a TypeDecl, or what a pointer or array declaration ends in)."""
    name = canonical_scalar(type_names(node))
    if name is None:  # (scalar typedefs are spelled out in the canonical AST: this names a struct or the like)
        raise Unsupported("a value of a struct, union or other non-scalar type")
    return slot_of(name)  # (void: False)


@dataclass(frozen=True)
class Member:
    """One member of a struct: its first cell, its type slot (a scalar's, or a nested struct's Layout; an array
    member's elements'), and an array member's dimensions."""

    offset: int
    slot: object = False
    dims: tuple = ()


@dataclass(eq=False)
class Layout:
    """A struct flattened to cells: `members` by name, `cell_slots[k]` the type slot of cell k (what a copy into
    the struct converts each cell to), `bytes` and `align` as LP64 C lays it out (for sizeof)."""

    name: str
    members: dict
    cell_slots: tuple
    bytes: int
    align: int

    @property
    def size(self) -> int:
        return len(self.cell_slots)

    def member(self, name: str) -> Member:
        if name not in self.members:
            raise Unsupported(f"no member {name} in {self.name}")
        return self.members[name]

    def zeros(self) -> list:
        return [0 if slot else 0.0 for slot in self.cell_slots]


class Types:
    """The program's struct layouts and sizes. `constant(node)`: the value of a constant expression (an array
    member's dimension), as the interpreter evaluates it."""

    def __init__(self, exts, constant):
        self.constant = constant
        self.typedefs = {e.name: e.type for e in exts if isinstance(e, c_ast.Typedef)}
        self.structs = {}  # tag -> its defining Struct node (a struct defined in a function body included)
        for e in exts:
            for node in walk(e):
                if isinstance(node, c_ast.Struct) and node.name and node.decls is not None:
                    self.structs.setdefault(node.name, node)
        self.layouts: dict[int, Layout] = {}  # id of a defining Struct node -> its layout

    def resolved(self, node):
        """What a declared type names, through typedefs: a TypeDecl's IdentifierType, Struct, Union or Enum."""
        for _ in range(64):
            if isinstance(node, (c_ast.TypeDecl, c_ast.Typename)):
                node = node.type
                continue
            if isinstance(node, c_ast.IdentifierType) and len(node.names) == 1 and node.names[0] in self.typedefs:
                node = self.typedefs[node.names[0]]
                continue
            return node
        raise Unsupported("a typedef that names itself")

    def layout_of(self, node) -> Layout | None:
        """The layout of the struct a declared type (TypeDecl, Typename, Struct) names; None for another type."""
        node = self.resolved(node)
        if isinstance(node, c_ast.Union):
            raise Unsupported("a union")
        if not isinstance(node, c_ast.Struct):
            return None
        if node.decls is None:
            if node.name not in self.structs:
                raise Unsupported(f"the incomplete struct {node.name}")
            node = self.structs[node.name]
        if id(node) not in self.layouts:
            self.layouts[id(node)] = self._layout(node)
        return self.layouts[id(node)]

    def slot(self, node):
        """The type slot of a declared type: a scalar's (`scalar_slot`), or the Layout of a struct."""
        layout = self.layout_of(node) if not isinstance(node, (c_ast.PtrDecl, c_ast.ArrayDecl)) else None
        return layout if layout is not None else scalar_slot(node)

    def element_slot(self, t):
        """The slot of the elements of a pointer or array declaration `t` (or of a function declaration's result):
        a scalar's, a struct's Layout, or False (a pointer to pointers and the like)."""
        if not isinstance(t.type, c_ast.TypeDecl):
            return False
        try:
            return self.slot(t.type)
        except Unsupported:
            return False

    def bytes_of(self, node) -> int:
        """sizeof a declared type (TypeDecl, PtrDecl, ArrayDecl), LP64 as c_types.SCALAR_SIZES."""
        if isinstance(node, c_ast.PtrDecl):
            return POINTER_SIZE
        if isinstance(node, c_ast.ArrayDecl):
            if node.dim is None:
                raise Unsupported("sizeof an array of unknown size")
            return self._dim(node.dim) * self.bytes_of(node.type)
        layout = self.layout_of(node)
        if layout is not None:
            return layout.bytes
        name = canonical_scalar(type_names(node))
        if name not in SCALAR_SIZES:
            raise Unsupported(f"sizeof {name or 'a non-scalar type'}")
        return SCALAR_SIZES[name]

    def _align(self, node) -> int:
        while isinstance(node, c_ast.ArrayDecl):
            node = node.type
        layout = self.layout_of(node) if not isinstance(node, c_ast.PtrDecl) else None
        return layout.align if layout is not None else self.bytes_of(node)

    def _dim(self, node) -> int:
        d = self.constant(node)
        if not isinstance(d, int) or d <= 0:
            raise Unsupported("an array member without a constant size")
        return d

    def _layout(self, struct: c_ast.Struct) -> Layout:
        members, slots, offset_bytes, align = {}, [], 0, 1
        for decl in struct.decls:
            if decl.bitsize is not None:
                raise Unsupported("a bit-field")
            t, dims = decl.type, []
            while isinstance(t, c_ast.ArrayDecl):
                if t.dim is None:
                    raise Unsupported("a flexible array member")
                dims.append(self._dim(t.dim))
                t = t.type
            if isinstance(t, c_ast.PtrDecl):
                raise Unsupported("a pointer member")
            if not isinstance(t, c_ast.TypeDecl):
                raise Unsupported(f"a member of {c_name(t)} type")
            layout = self.layout_of(t)
            slot = layout if layout is not None else scalar_slot(t)
            count = int(np.prod(dims, dtype=np.int64)) if dims else 1
            if count * (layout.size if layout is not None else 1) > 1_000_000:
                raise Unsupported("a very large struct")
            member_align = self._align(decl.type)
            offset_bytes = -(-offset_bytes // member_align) * member_align
            align = max(align, member_align)
            members[decl.name] = Member(len(slots), slot, tuple(dims))
            slots.extend((layout.cell_slots if layout is not None else (slot,)) * count)
            offset_bytes += self.bytes_of(decl.type)
        total = -(-offset_bytes // align) * align
        return Layout(struct.name or "an unnamed struct", members, tuple(slots), total, align)



def member_of(base, name: str) -> Ptr:
    """The pointer to member `name` of the struct a pointer (values.Ptr) points to."""
    if not isinstance(base, Ptr) or base.layout is None:
        raise Unsupported("a member of a value that is not a struct")
    m = base.layout.member(name)
    return base.moved(m.offset, m.dims, m.slot)


def copied(value, layout, convert) -> Aggregate:
    """A struct value converted to the struct type `layout` (for an assignment, an argument, a return): each
    cell by `convert` to its member's slot. C converts no other type to a struct, nor a struct to another."""
    if not (isinstance(value, Aggregate) and isinstance(layout, Layout) and value.layout is layout):
        raise Unsupported("a struct converted to or from another type")
    return Aggregate(tuple(convert(v, slot) for v, slot in zip(value.cells, layout.cell_slots)), layout)
