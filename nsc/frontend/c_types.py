"""C types as nsc needs them: typedefs resolved, scalar type names canonical.

`canonical_scalar(["long", "unsigned", "int"])` -> "unsigned long" (the spellings of program.SCALAR_TYPES);
`resolve(type_node, index)` -> a small `CType` tree with typedef names expanded, so ``real_t`` is a double and
``uint8_t`` an unsigned char (per nsc's stdint.h stand-in, which follows glibc on x86_64).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from pycparser import c_ast

from nsc.frontend.names import BASE_TYPE_WORDS

# Sizes on x86_64 (LP64), for sizeof in constant expressions.
SCALAR_SIZES = {
    "_Bool": 1, "char": 1, "signed char": 1, "unsigned char": 1, "short": 2, "unsigned short": 2, "int": 4,
    "unsigned int": 4, "long": 8, "unsigned long": 8, "long long": 8, "unsigned long long": 8, "float": 4,
    "double": 8, "long double": 16,
}
POINTER_SIZE = 8


def canonical_scalar(names) -> str | None:
    """Canonical spelling of a list of type-specifier keywords, 'void', or None if it is not a scalar type."""
    words = Counter(names)
    if set(words) - BASE_TYPE_WORDS or "_Complex" in words or "__int128" in words:
        return None
    if words["void"]:
        return "void"
    if words["_Bool"]:
        return "_Bool"
    if words["float"]:
        return "float"
    if words["double"]:
        return "long double" if words["long"] else "double"
    unsigned = "unsigned " if words["unsigned"] else ""
    if words["char"]:
        if words["unsigned"]:
            return "unsigned char"
        return "signed char" if words["signed"] else "char"
    if words["short"]:
        return unsigned + "short"
    if words["long"] >= 2:
        return unsigned + "long long"
    if words["long"]:
        return unsigned + "long"
    if words["int"] or words["signed"] or words["unsigned"]:
        return unsigned + "int"
    return None


@dataclass(frozen=True)
class CType:
    """A resolved C type.

    kind:   'scalar', 'void', 'pointer', 'array', 'struct', 'union', 'function', 'unknown'
    name:   the canonical scalar name, the tag name, or the unknown type name
    const:  const-qualified (for pointers: the pointer itself)
    target: the pointee, element or return type
    dim:    the array size expression (pycparser node) or None
    variadic: for functions, whether the parameter list ends with `...`
    """

    kind: str
    name: str = ""
    const: bool = False
    target: "CType | None" = None
    dim: c_ast.Node | None = None
    variadic: bool = False

    def spelled(self) -> str:
        """A short human spelling for messages."""
        if self.kind in ("scalar", "void", "unknown"):
            return ("const " if self.const else "") + (self.name or "?")
        if self.kind in ("struct", "union"):
            return f"{self.kind} {self.name}".strip()
        if self.kind == "pointer":
            return self.target.spelled() + " *"
        if self.kind == "array":
            return self.target.spelled() + " []"
        return "function returning " + self.target.spelled()


def resolve(node, index) -> CType:
    """Resolve a pycparser type node (TypeDecl, PtrDecl, ArrayDecl, FuncDecl, Typename) to a CType."""
    return _resolve(node, index, 0)


def _resolve(node, index, depth: int) -> CType:
    if depth > 64:
        return CType("unknown", "recursive typedef")
    if isinstance(node, c_ast.Typename):
        return _resolve(node.type, index, depth)
    if isinstance(node, c_ast.TypeDecl):
        base = _resolve_base(node.type, index, depth)
        if "const" in (node.quals or []) and not base.const:
            base = CType(base.kind, base.name, True, base.target, base.dim, base.variadic)
        return base
    if isinstance(node, c_ast.PtrDecl):
        return CType("pointer", const="const" in (node.quals or []), target=_resolve(node.type, index, depth))
    if isinstance(node, c_ast.ArrayDecl):
        return CType("array", target=_resolve(node.type, index, depth), dim=node.dim)
    if isinstance(node, c_ast.FuncDecl):
        params = node.args.params if node.args is not None else []
        variadic = any(isinstance(p, c_ast.EllipsisParam) for p in params)
        return CType("function", target=_resolve(node.type, index, depth), variadic=variadic)
    return CType("unknown", type(node).__name__)


def _resolve_base(node, index, depth: int) -> CType:
    if isinstance(node, c_ast.IdentifierType):
        typedef_names = [n for n in node.names if n not in BASE_TYPE_WORDS]
        if typedef_names:
            typedef = index.typedef(typedef_names[0]) if index is not None else None
            if typedef is None:
                return CType("unknown", typedef_names[0])
            return _resolve(typedef.type, index, depth + 1)
        name = canonical_scalar(node.names)
        if name is None:
            return CType("unknown", " ".join(node.names))
        return CType("void") if name == "void" else CType("scalar", name)
    if isinstance(node, c_ast.Struct):
        return CType("struct", node.name or "")
    if isinstance(node, c_ast.Union):
        return CType("union", node.name or "")
    if isinstance(node, c_ast.Enum):
        return CType("scalar", "int")
    return CType("unknown", type(node).__name__)
