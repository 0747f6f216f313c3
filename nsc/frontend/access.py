"""Pointer access analysis: which pointer/array parameters a function reads and writes, and at which indices.

Conservative by design: an element access ``p[i]``, ``*p``, ``*(p + i)`` is a read, a write (``=``) or both
(``+=``, ``++``); passing ``p``, ``p + k`` or ``&p[k]`` to a helper function applies that helper's own summary
(shifted by k), and to a library function its prototype (``const T *``: read, else read and write; the
destination of memcpy/memmove/memset: written). Any other
use of the pointer value (copied to a local pointer, stored, returned, cast) makes it read, written and of
unknown extent. Constant indices are collected so a pointer used only as ``out[0]``, ``out[1]`` has a known
extent.

A read of an element ``*p`` / ``p[k]`` (k constant) that an earlier statement of the function's top-level
sequence has certainly written (``*lse = ...; return exp(x - *lse);``) reads the function's own result, not the
caller's value, so it is no read. Only plain ``=`` statements of that sequence (and of plain blocks in it) count
as certain writes: a write inside an if, loop or switch does not, nor does one after the first statement with a
goto (which may jump past it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pycparser import c_ast

from nsc.frontend import c_types
from nsc.frontend.canonical import walk
from nsc.frontend.consteval import int_constant
from nsc.frontend.index import FileIndex
from nsc.frontend.names import Binding, Resolution, resolve

_VALUE_TESTS = frozenset({"==", "!=", "<", ">", "<=", ">=", "&&", "||"})
# Library functions whose first argument is only written (elsewhere the prototype's constness decides).
_WRITE_ONLY_FIRST = frozenset({"memcpy", "memmove", "memset"})
# math.h functions that store one value through their second argument: modf's whole part, frexp's exponent.
_STORE_SECOND = frozenset(base + suffix for base in ("modf", "frexp") for suffix in ("", "f", "l"))


@dataclass
class Access:
    """How a function uses the memory a pointer parameter points to."""

    reads: bool = False
    writes: bool = False
    indices: set[int] | None = field(default_factory=set)  # constant element indices; None: some not constant
    subscripted: bool = False   # used as an array (p[i], p + k), not only as *p
    escapes: bool = False       # its value went somewhere we do not follow

    def element(self, index: int | None, ctx: str, subscripted: bool) -> None:
        self.reads |= ctx in ("r", "rw")
        self.writes |= ctx in ("w", "rw")
        self.subscripted |= subscripted
        if index is None:
            self.indices = None
        elif self.indices is not None:
            self.indices.add(index)

    def escape(self) -> None:
        self.reads = self.writes = self.escapes = self.subscripted = True
        self.indices = None

    def merge(self, other: "Access", offset: int | None) -> None:
        """Fold in what a callee does with ``p + offset``."""
        self.reads |= other.reads
        self.writes |= other.writes
        self.escapes |= other.escapes
        self.subscripted |= other.subscripted or offset != 0
        if other.indices is None or offset is None:
            self.indices = None
        elif self.indices is not None:
            self.indices.update(i + offset for i in other.indices)


def pointer_params(fn: c_ast.FuncDef, index: FileIndex) -> list[c_ast.Decl]:
    """The parameters of `fn` whose type is a pointer or an array."""
    params = fn.decl.type.args.params if fn.decl.type.args is not None else []
    return [p for p in params if isinstance(p, c_ast.Decl) and p.name
            and c_types.resolve(p.type, index).kind in ("pointer", "array")]


class AccessAnalyzer:
    """Summaries of pointer-parameter use per function, computed on demand and memoised."""

    def __init__(self, index: FileIndex, resolutions: dict[int, Resolution] | None = None):
        self.index = index
        self.resolutions = resolutions if resolutions is not None else {}
        self.summaries: dict[int, dict[str, Access]] = {}
        self.in_progress: set[int] = set()

    def summary(self, fn: c_ast.FuncDef) -> dict[str, Access] | None:
        """Parameter name -> Access for the pointer/array parameters of `fn`; None while `fn` is being analysed
        (recursion: the caller then assumes the worst)."""
        key = id(fn)
        if key in self.summaries:
            return self.summaries[key]
        if key in self.in_progress:
            return None
        self.in_progress.add(key)
        resolution = self.resolutions.get(key) or resolve(fn)
        walker = _Walker(self, fn, resolution)
        walker.visit_sequence(fn.body)
        self.in_progress.discard(key)
        result = {b.name: acc for b, acc in walker.tracked.items()}
        self.summaries[key] = result
        return result


class _Walker:
    def __init__(self, analyzer: AccessAnalyzer, fn: c_ast.FuncDef, resolution: Resolution):
        self.analyzer = analyzer
        self.index = analyzer.index
        self.resolution = resolution
        decls = {id(p) for p in pointer_params(fn, self.index)}
        self.tracked: dict[Binding, Access] = {
            b: Access() for b in resolution.bindings if b.kind == "param" and id(b.node) in decls}
        self.written: set[tuple[Binding, int]] = set()  # elements certainly written by the statements so far
        self.jumps = False  # a goto has been seen: a write after it may be jumped past

    # -- the top-level statement sequence --------------------------------------------------------------------
    def visit_sequence(self, block: c_ast.Compound) -> None:
        """Visit a block that runs statement by statement; after each, note the elements it certainly wrote."""
        for stmt in block.block_items or []:
            if isinstance(stmt, c_ast.Compound):
                self.visit_sequence(stmt)
                continue
            self.visit(stmt, "r")
            self.jumps = self.jumps or _has_goto(stmt)
            if not self.jumps:
                self.written |= self.certain_writes(stmt) | self.loop_writes(stmt)

    def certain_writes(self, expr) -> set[tuple[Binding, int]]:
        """Elements a statement writes whenever it completes: ``*p = e``, ``p[k] = e``, chains ``a = b = e`` and
        comma lists of these, and the element modf or frexp stores through (``m = frexp(x, e)``, ``double f =
        modf(x, &w[1])``). Anything conditional (?:, &&, ||, statements with bodies) writes nothing certain."""
        if isinstance(expr, c_ast.ExprList):
            return set().union(*(self.certain_writes(e) for e in expr.exprs))
        if isinstance(expr, c_ast.Decl):
            return self.stores_of_calls(expr.init) if expr.init is not None else set()
        if (isinstance(expr, c_ast.FuncCall) and isinstance(expr.name, c_ast.ID)
                and expr.name.name in _STORE_SECOND and expr.args is not None and len(expr.args.exprs) == 2):
            pointer = self.pointer(expr.args.exprs[1])
            return {pointer} if pointer is not None and pointer[1] is not None else set()
        if (isinstance(expr, c_ast.FuncCall) and isinstance(expr.name, c_ast.ID)
                and expr.name.name in _WRITE_ONLY_FIRST and expr.args is not None and len(expr.args.exprs) == 3):
            return self.block_writes(expr.args.exprs[0], expr.args.exprs[2])
        if not isinstance(expr, c_ast.Assignment) or expr.op != "=":
            return self.stores_of_calls(expr)
        out = self.certain_writes(expr.rvalue) | self.stores_of_calls(expr.rvalue)
        element = self.element_of(expr.lvalue)
        if element is not None:
            out.add(element)
        return out

    def stores_of_calls(self, expr) -> set[tuple[Binding, int]]:
        """What the modf and frexp calls an expression certainly makes store (not under ?:, && or ||, nor in a
        statement with a body)."""
        if not isinstance(expr, (c_ast.BinaryOp, c_ast.UnaryOp, c_ast.Cast, c_ast.FuncCall, c_ast.ExprList)):
            return set()
        if isinstance(expr, c_ast.BinaryOp) and expr.op in ("&&", "||"):
            return set()
        if isinstance(expr, c_ast.FuncCall) and isinstance(expr.name, c_ast.ID) and expr.name.name in _STORE_SECOND:
            return self.certain_writes(expr)
        return set().union(*(self.stores_of_calls(child) for _, child in expr.children()))

    def loop_writes(self, stmt) -> set[tuple[Binding, int]]:
        """The elements a counted loop whose body only assigns them writes: ``for (i = A; i < B; i++) p[i] = e;``
        (or several such ``q[i] = e`` in braces; A and B constant, i not assigned in the body): p[A..B-1]. (A
        zeroing loop before ``out[k] += v`` made out an input needing a range.)"""
        if not (isinstance(stmt, c_ast.For) and stmt.init is not None and stmt.cond is not None):
            return set()
        init = stmt.init.decls[0] if isinstance(stmt.init, c_ast.DeclList) and len(stmt.init.decls) == 1 else \
            stmt.init
        if isinstance(init, c_ast.Decl) and init.init is not None:
            name, start = init.name, int_constant(init.init, self.index)
        elif isinstance(init, c_ast.Assignment) and init.op == "=" and isinstance(init.lvalue, c_ast.ID):
            name, start = init.lvalue.name, int_constant(init.rvalue, self.index)
        else:
            return set()
        cond, step = stmt.cond, stmt.next
        if not (isinstance(cond, c_ast.BinaryOp) and cond.op in ("<", "<=") and isinstance(cond.left, c_ast.ID)
                and cond.left.name == name):
            return set()
        end = int_constant(cond.right, self.index)
        stepped = (isinstance(step, c_ast.UnaryOp) and step.op in ("++", "p++") and isinstance(step.expr, c_ast.ID)
                   and step.expr.name == name)
        if start is None or end is None or not stepped:
            return set()
        body = stmt.stmt.block_items or [] if isinstance(stmt.stmt, c_ast.Compound) else [stmt.stmt]
        out = set()
        for item in body:
            if not (isinstance(item, c_ast.Assignment) and item.op == "=" and isinstance(item.lvalue, c_ast.ArrayRef)
                    and isinstance(item.lvalue.subscript, c_ast.ID) and item.lvalue.subscript.name == name
                    and not _assigns(item.rvalue, name)):
                return set()
            base = self.pointer(item.lvalue.name)
            if base is None or base[1] is None:
                return set()
            out |= {(base[0], base[1] + k) for k in range(start, end + (cond.op == "<="))}
        return out

    def block_writes(self, dest, count) -> set[tuple[Binding, int]]:
        """The elements ``memcpy(p + k, src, n * sizeof(T))`` (or memmove, memset) writes: a constant byte count
        over a tracked parameter's element size. (Such an output was read first, so an input needing a range.)"""
        base, n_bytes = self.pointer(dest), int_constant(count, self.index)
        if base is None or base[1] is None or n_bytes is None:
            return set()
        elem = self.element_type(base[0])
        size = c_types.SCALAR_SIZES.get(elem.name) if elem is not None and elem.kind == "scalar" else None
        return {(base[0], base[1] + k) for k in range(n_bytes // size)} if size else set()

    def element_type(self, b: Binding):
        t = c_types.resolve(b.node.type, self.index)
        return t.target if t.kind in ("pointer", "array") else None

    def whole_array_written(self, b: Binding) -> bool:
        """Has every element of an array parameter of known size (``double out[3]``) certainly been written?
        Then a read at an index that is not constant reads the function's own results too."""
        t = c_types.resolve(b.node.type, self.index)
        n = int_constant(t.dim, self.index) if t.kind == "array" and t.dim is not None else None
        return n is not None and all((b, k) in self.written for k in range(n))

    def element_of(self, expr) -> tuple[Binding, int] | None:
        """(binding, constant index) of ``*p``, ``*(p + k)`` or ``p[k]`` for a tracked p, else None."""
        if isinstance(expr, c_ast.ArrayRef):
            base = self.pointer(expr.name)
            index = None if base is None else _add(base[1], int_constant(expr.subscript, self.index))
        elif isinstance(expr, c_ast.UnaryOp) and expr.op == "*":
            base = self.pointer(expr.expr)
            index = None if base is None else base[1]
        else:
            return None
        return None if index is None else (base[0], index)

    def unread(self, b: Binding, index: int | None, ctx: str) -> str:
        """The access context less the read of an element this call has certainly written already."""
        if (b, index) in self.written if index is not None else self.whole_array_written(b):
            return ctx.replace("r", "")
        return ctx

    # -- pointer values ------------------------------------------------------------------------------------
    def pointer(self, expr) -> tuple[Binding, int | None] | None:
        """If `expr` is a tracked parameter plus an offset (``p``, ``p + 2``, ``&p[i]``): (binding, offset or
        None when not constant)."""
        if isinstance(expr, c_ast.ID):
            b = self.resolution.by_node.get(id(expr))
            return (b, 0) if b in self.tracked else None
        if isinstance(expr, c_ast.BinaryOp) and expr.op in ("+", "-"):
            left = self.pointer(expr.left)
            if left is not None:
                k = int_constant(expr.right, self.index)
                return left[0], _add(left[1], None if k is None else (k if expr.op == "+" else -k))
            right = self.pointer(expr.right) if expr.op == "+" else None
            if right is not None:
                return right[0], _add(right[1], int_constant(expr.left, self.index))
            return None
        if isinstance(expr, c_ast.UnaryOp) and expr.op == "&":
            inner = expr.expr
            if isinstance(inner, c_ast.ArrayRef):
                base = self.pointer(inner.name)
                if base is not None:
                    return base[0], _add(base[1], int_constant(inner.subscript, self.index))
            if isinstance(inner, c_ast.UnaryOp) and inner.op == "*":
                return self.pointer(inner.expr)
        return None

    # -- expressions with an access context: 'r' read, 'w' written, 'rw' both ----------------------------------
    def visit(self, node, ctx: str) -> None:
        if node is None:
            return
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is not None:
            method(node, ctx)
        else:
            for _, child in node.children():
                self.visit(child, "r")

    def visit_ArrayRef(self, node: c_ast.ArrayRef, ctx: str) -> None:
        base = self.pointer(node.name)
        if base is not None:
            b, offset = base
            index = _add(offset, int_constant(node.subscript, self.index))
            self.tracked[b].element(index, self.unread(b, index, ctx), True)
        else:
            self.visit(node.name, ctx)
        self.visit(node.subscript, "r")

    def visit_UnaryOp(self, node: c_ast.UnaryOp, ctx: str) -> None:
        op = node.op
        if op in ("sizeof", "_Alignof"):
            return
        if op == "*":
            base = self.pointer(node.expr)
            if base is not None:
                b, offset = base
                self.tracked[b].element(offset, self.unread(b, offset, ctx), offset != 0)
            else:
                self.visit(node.expr, "r")
        elif op == "&":
            base = self.pointer(node)
            if base is not None:
                self.tracked[base[0]].escape()  # &p[i] stored or used: assume anything
            else:
                self.visit(node.expr, "r")
        elif op in ("++", "--", "p++", "p--"):
            self.visit(node.expr, "rw")
        elif op == "!" and self.pointer(node.expr) is not None:
            return  # a null test reads no element
        else:
            self.visit(node.expr, "r")

    def visit_Assignment(self, node: c_ast.Assignment, ctx: str) -> None:
        self.visit(node.lvalue, "w" if node.op == "=" else "rw")
        self.visit(node.rvalue, "r")

    def visit_BinaryOp(self, node: c_ast.BinaryOp, ctx: str) -> None:
        for operand in (node.left, node.right):
            if node.op in _VALUE_TESTS and self.pointer(operand) is not None:
                continue  # comparing pointers reads no element
            self.visit(operand, "r")

    def visit_ID(self, node: c_ast.ID, ctx: str) -> None:
        b = self.resolution.by_node.get(id(node))
        if b in self.tracked:
            self.tracked[b].escape()

    def visit_FuncCall(self, node: c_ast.FuncCall, ctx: str) -> None:
        args = node.args.exprs if node.args is not None else []
        direct = isinstance(node.name, c_ast.ID) and id(node.name) not in self.resolution.by_node
        callee = node.name.name if direct else None  # else a call through a function pointer
        if callee is None:
            self.visit(node.name, "r")
        for k, arg in enumerate(args):
            base = self.pointer(arg)
            if base is None:
                self.visit(arg, "r")
            else:
                self.pass_pointer(base[0], base[1], callee, k)

    def pass_pointer(self, b: Binding, offset: int | None, callee: str | None, k: int) -> None:
        acc = self.tracked[b]
        entity = self.index.lookup(callee) if callee else None
        if entity is None:
            acc.escape()
            return
        if entity.kind == "function" and not entity.library:
            params = pointer_params(entity.node, self.index)
            all_params = entity.node.decl.type.args.params if entity.node.decl.type.args else []
            if k >= len(all_params) or all_params[k] not in params:
                acc.escape()
                return
            summary = self.analyzer.summary(entity.node)
            if summary is None:
                acc.escape()
                return
            acc.merge(summary[all_params[k].name], offset)
            return
        if entity.library and callee in _WRITE_ONLY_FIRST and k == 0:
            acc.element(None, "w", True)
            return
        if entity.library and callee in _STORE_SECOND and k == 1:
            acc.element(offset, "w", offset != 0)  # as `*p = ...` (p + offset)
            return
        # A library function (or a prototype): trust the constness of its parameter.
        ftype = entity.node.type if isinstance(entity.node, c_ast.Decl) else None
        params = ftype.args.params if isinstance(ftype, c_ast.FuncDecl) and ftype.args is not None else []
        if k < len(params) and isinstance(params[k], (c_ast.Decl, c_ast.Typename)):
            t = c_types.resolve(params[k].type, self.index)
            if t.kind in ("pointer", "array") and t.target is not None and t.target.const:
                acc.element(None, "r", True)
                return
        acc.escape()


def _assigns(expr, name: str) -> bool:
    """Does the expression assign the variable `name` (=, op=, ++, --)?"""
    for node in walk(expr):
        target = node.lvalue if isinstance(node, c_ast.Assignment) else \
            node.expr if isinstance(node, c_ast.UnaryOp) and node.op in ("++", "--", "p++", "p--") else None
        if isinstance(target, c_ast.ID) and target.name == name:
            return True
    return False


def _has_goto(node) -> bool:
    """Whether a statement holds a goto, which may jump past the writes of the statements after it."""
    return any(isinstance(n, c_ast.Goto) for n in walk(node))


def _add(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a + b

