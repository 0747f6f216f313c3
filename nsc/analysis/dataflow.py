"""Data flow: which inputs can reach which outputs of the target function (conservative).

Works on the canonical AST (canonical.py: the target is ``target``, its parameters ``p0``.., helpers ``f0``..).
Each memory location carries a *taint*, the set of input ports whose values may flow into it (a bit mask),
through data (``x = a + b``) or control (an assignment runs only if a condition holds; a loop runs as long as
one does). The analysis is flow-insensitive: every assignment event of the target is applied until nothing
changes, so loops and statement order are covered without tracking program points. It over-approximates,
never under:
  * a location is a variable, or one element of an array or pointer at a constant index (``out[2]``, ``*p``,
    ``*(p + 1)``); an element at any other index stands for every element;
  * a condition guarding a ``return``/``break``/``continue``/``goto`` decides what runs afterwards, so its taint
    joins every assignment of the function;
  * a call's value depends on all its arguments and, for the program's own helpers, on every file-scope
    variable; a call may write, with that taint, through any pointer-valued argument, and a helper call to every
    file-scope variable assigned anywhere in the code;
  * where a pointer is copied (``double *q = out;``) or a file-scope pointer exists, aliasing is not followed:
    every input is taken to reach every output.

`reach_matrix(exts, signature)` -> bool [n_in, n_out]: entry (i, j) False means input i cannot affect output j
(checked against the real programs by perturbing inputs, tests/test_dataflow.py). `reach_matrix_of_tokens`
re-reads canonical tokens (as the corpus stores them) and does the same.
"""

from __future__ import annotations

import numpy as np
from pycparser import c_ast, c_parser

from nsc.frontend.canonical import TARGET_NAME, walk
from nsc.frontend.consteval import int_constant
from nsc.recursion import deep

RETURN = "return"
WHOLE = None  # element key of "the whole variable / an unknown element"
_INC_DEC = ("++", "--", "p++", "p--")


def _const_index(expr) -> int | None:
    try:
        return int_constant(expr, None)
    except Exception:  # noqa: BLE001 - anything we cannot evaluate without the file's index is "not constant"
        return None


def _location(node) -> tuple[str | None, int | None]:
    """The location an lvalue designates, as (variable, element): ``x`` -> (x, WHOLE), ``a[2]`` -> (a, 2),
    ``a[i]`` -> (a, WHOLE), ``*p`` -> (p, 0), ``*(p + 1)`` -> (p, 1), ``s.m`` -> (s, WHOLE); for a pointer-valued
    call argument (``p``, ``p + k``, ``&x``, ``&a[1]``): its variable and WHOLE. (None, WHOLE) if there is none."""
    if isinstance(node, c_ast.ID):
        return node.name, WHOLE
    if isinstance(node, c_ast.ArrayRef):
        if isinstance(node.name, c_ast.ID):
            return node.name.name, _const_index(node.subscript)
        return _location(node.name)[0], WHOLE
    if isinstance(node, c_ast.UnaryOp) and node.op == "*":
        inner = node.expr
        if isinstance(inner, c_ast.ID):
            return inner.name, 0
        if isinstance(inner, c_ast.BinaryOp) and inner.op == "+" and isinstance(inner.left, c_ast.ID):
            return inner.left.name, _const_index(inner.right)
        return _location(inner)[0], WHOLE
    if isinstance(node, c_ast.UnaryOp) and node.op in ("&",) + _INC_DEC:
        return _location(node.expr)[0], WHOLE
    if isinstance(node, (c_ast.StructRef, c_ast.Cast)):
        return _location(node.name if isinstance(node, c_ast.StructRef) else node.expr)[0], WHOLE
    if isinstance(node, c_ast.BinaryOp) and node.op in ("+", "-"):
        name = _location(node.left)[0]
        return (name if name is not None else _location(node.right)[0]), WHOLE
    return None, WHOLE


NO_CONTROL = -1  # the control frame of code that runs unconditionally


class _Events(c_ast.NodeVisitor):
    """Collects the target's assignment events: (location written, expressions its taint comes from, control
    frame). The conditions an event runs under are a chain of frames (condition, enclosing frame), shared by
    every event under them: an `else if` chain of n arms costs n frames, not n^2 copies of its conditions."""

    def __init__(self, pointers: set[str]):
        self.pointers = pointers
        self.events: list[tuple[tuple[str, int | None], list[c_ast.Node], int]] = []
        self.frames: list[tuple[c_ast.Node, int]] = []  # (condition, enclosing frame): enclosing ones come first
        self.frame = NO_CONTROL
        self.exit_frames: set[int] = set()  # frames whose conditions guard a return/break/continue/goto
        self.helper_calls: list[tuple[c_ast.FuncCall, int]] = []  # with their control frames
        self._addresses: dict[int, bool] = {}  # id(node) -> whether it contains `&`

    def _event(self, location, sources) -> None:
        if location[0] is not None:
            self.events.append((location, [s for s in sources if s is not None], self.frame))

    def _guarded(self, cond, *bodies) -> None:
        enclosing = self.frame
        if cond is not None:
            self.visit(cond)
            self.frames.append((cond, enclosing))
            self.frame = len(self.frames) - 1
        for body in bodies:
            if body is not None:
                self.visit(body)
        self.frame = enclosing

    def visit_If(self, node):
        self._guarded(node.cond, node.iftrue, node.iffalse)

    def visit_While(self, node):
        self._guarded(node.cond, node.stmt)

    def visit_DoWhile(self, node):
        self._guarded(node.cond, node.stmt)

    def visit_For(self, node):
        if node.init is not None:
            self.visit(node.init)
        self._guarded(node.cond, node.stmt, node.next)

    def visit_Switch(self, node):
        self._guarded(node.cond, node.stmt)

    def visit_TernaryOp(self, node):
        self._guarded(node.cond, node.iftrue, node.iffalse)

    def visit_Decl(self, node):
        if node.init is not None:
            self.visit(node.init)
            self._event((node.name, WHOLE), [node.init])

    def visit_Assignment(self, node):
        self.visit(node.rvalue)
        self.visit(node.lvalue)
        sources = [node.rvalue] + _subscripts(node.lvalue)
        if node.op != "=":
            sources.append(node.lvalue)
        self._event(_location(node.lvalue), sources)

    def visit_UnaryOp(self, node):
        self.visit(node.expr)
        if node.op in _INC_DEC:
            self._event(_location(node.expr), [node.expr] + _subscripts(node.expr))

    def visit_Return(self, node):
        if node.expr is not None:
            self.visit(node.expr)
            self._event((RETURN, WHOLE), [node.expr])
        self.exit_frames.add(self.frame)

    def visit_Break(self, node):
        self.exit_frames.add(self.frame)

    visit_Continue = visit_Goto = visit_Break

    def visit_FuncCall(self, node):
        if isinstance(node.name, c_ast.ID) and node.name.name.startswith("f"):
            self.helper_calls.append((node, self.frame))
        if node.args is None:
            return
        self.visit(node.args)
        for arg in node.args.exprs:  # memory a pointer argument points to may be written, from every argument
            name = _location(arg)[0]
            if name in self.pointers or self._takes_address(arg):
                self._event((name, WHOLE), [node])

    def _takes_address(self, node) -> bool:
        """Whether `&` occurs in `node` (memoised: nested calls g(g(g(x))) ask again at every level)."""
        key = id(node)
        if key not in self._addresses:
            found = isinstance(node, c_ast.UnaryOp) and node.op == "&"
            for _, child in node.children():
                found = self._takes_address(child) or found
            self._addresses[key] = found
        return self._addresses[key]


def _subscripts(lvalue) -> list[c_ast.Node]:
    """Index expressions of an lvalue (``a[i][j]`` -> i, j; ``*(p + i)`` -> p + i): they decide the element."""
    out = []
    while isinstance(lvalue, (c_ast.ArrayRef, c_ast.StructRef, c_ast.UnaryOp, c_ast.Cast)):
        if isinstance(lvalue, c_ast.ArrayRef):
            out.append(lvalue.subscript)
            lvalue = lvalue.name
        elif isinstance(lvalue, c_ast.StructRef):
            lvalue = lvalue.name
        else:
            if isinstance(lvalue, c_ast.UnaryOp) and isinstance(lvalue.expr, c_ast.BinaryOp):
                out.append(lvalue.expr)
            lvalue = lvalue.expr
    return out


def _pointer_names(node) -> set[str]:
    """Names declared as pointers or arrays under `node`."""
    return {n.name for n in walk(node)
            if isinstance(n, c_ast.Decl) and isinstance(n.type, (c_ast.PtrDecl, c_ast.ArrayDecl))}


def _copies_pointers(func: c_ast.FuncDef, pointers: set[str]) -> bool:
    """Does the target copy a pointer value (an alias we do not follow)?"""
    for n in walk(func.body):
        if isinstance(n, c_ast.Decl) and isinstance(n.type, c_ast.PtrDecl) and n.init is not None:
            return True
        if isinstance(n, c_ast.Assignment) and isinstance(n.lvalue, c_ast.ID) and n.lvalue.name in pointers:
            return True
    return False


class _Taints:
    """Taint bit masks per location; reading a variable as a whole reads every element of it."""

    def __init__(self, helper_globals: list[str]):
        self.masks: dict[tuple[str, int | None], int] = {}
        self.elements: dict[str, set[int | None]] = {}
        self.helper_globals = helper_globals  # what a helper call may read: every file-scope variable

    def add(self, location, mask: int) -> bool:
        old = self.masks.get(location, 0)
        if mask & ~old:
            self.masks[location] = old | mask
            self.elements.setdefault(location[0], set()).add(location[1])
            return True
        return False

    def whole(self, name: str) -> int:
        m = 0
        for k in self.elements.get(name, ()):
            m |= self.masks[name, k]
        return m

    def element(self, name: str, k: int) -> int:
        return self.masks.get((name, WHOLE), 0) | self.masks.get((name, k), 0)

    def of(self, node) -> int:
        """The taint of an expression's value."""
        if isinstance(node, c_ast.ID):
            return self.whole(node.name)
        if isinstance(node, c_ast.ArrayRef) or (isinstance(node, c_ast.UnaryOp) and node.op == "*"):
            name, k = _location(node)
            if name is not None and k is not WHOLE:
                return self.element(name, k)
        m = 0
        if isinstance(node, c_ast.FuncCall):
            if isinstance(node.name, c_ast.ID) and node.name.name.startswith("f"):
                for g in self.helper_globals:
                    m |= self.whole(g)
            return m | (self.of(node.args) if node.args is not None else 0)
        for _, child in node.children():
            m |= self.of(child)
        return m


@deep
def reach_matrix(exts: list[c_ast.Node], signature) -> np.ndarray:
    """bool [n_in, n_out]: may input port i affect output port j? (canonical AST; target last)"""
    n_in, n_out = signature.n_in, signature.n_out
    functions = [e for e in exts if isinstance(e, c_ast.FuncDef)]
    target = next((f for f in functions if f.decl.name == TARGET_NAME), functions[-1])  # canonical: target last
    file_scope = [e for e in exts if isinstance(e, c_ast.Decl) and e.name and not isinstance(e.type, c_ast.FuncDecl)]
    pointers = _pointer_names(target)
    if _copies_pointers(target, pointers) or any(isinstance(e.type, c_ast.PtrDecl) for e in file_scope):
        return np.ones((n_in, n_out), dtype=bool)

    canonical = {p.name: f"p{k}" for k, p in enumerate(signature.params)}
    is_pointer = {p.name: bool(p.is_pointer or p.shape) for p in signature.params}

    def location(port) -> tuple[str, int | None]:
        if port.param == "return":
            return RETURN, WHOLE
        k = port.index if port.index is not None else (0 if is_pointer[port.param] else WHOLE)
        return canonical[port.param], k

    global_names = [e.name for e in file_scope]
    taints = _Taints(global_names)
    for i, port in enumerate(signature.inputs):
        taints.add(location(port), 1 << i)

    collector = _Events(pointers)
    collector.visit(target.body)
    events = list(collector.events)
    written_globals = _globals_written(exts, set(global_names))
    for call, frame in collector.helper_calls:  # a helper may write file-scope variables, from its arguments
        events += [((g, WHOLE), [call], frame) for g in written_globals]  # and from file-scope variables

    changed = True
    while changed:  # (each sweep reads the conditions' taints as they were at its start: the same fixed point)
        changed = False
        control = [0] * len(collector.frames)  # taint of each frame's conditions, enclosing ones included
        for k, (cond, enclosing) in enumerate(collector.frames):
            control[k] = taints.of(cond) | (control[enclosing] if enclosing != NO_CONTROL else 0)
        always = 0
        for frame in collector.exit_frames:
            always |= control[frame] if frame != NO_CONTROL else 0
        for loc, sources, frame in events:
            mask = always | (control[frame] if frame != NO_CONTROL else 0)
            for s in sources:
                mask |= taints.of(s)
            changed |= taints.add(loc, mask)

    out = np.zeros((n_in, n_out), dtype=bool)
    for j, port in enumerate(signature.outputs):
        name, k = location(port)
        mask = taints.whole(name) if k is WHOLE else taints.element(name, k)
        out[:, j] = [(mask >> i) & 1 == 1 for i in range(n_in)]
    return out


def _globals_written(exts, global_names: set[str]) -> set[str]:
    """File-scope variables assigned anywhere in the reached code (helpers included)."""
    out = set()
    for node in walk(c_ast.FileAST(list(exts))):
        if isinstance(node, c_ast.Assignment):
            name = _location(node.lvalue)[0]
        elif isinstance(node, c_ast.UnaryOp) and node.op in _INC_DEC:
            name = _location(node.expr)[0]
        else:
            continue
        if name in global_names:
            out.add(name)
    return out


def canonical_text(tokens) -> str:
    """C text of canonical tokens (literals by value), re-readable by pycparser."""
    parts = []
    for t in tokens:
        if t.text == "<num>":
            v = float(t.value)
            parts.append(str(int(v)) if v.is_integer() and abs(v) < 2 ** 62 else repr(v))
        elif t.text == "<str>":
            parts.append('""')
        elif t.text == "<more>":
            parts.append("0")
        else:
            parts.append(t.text)
    return " ".join(parts)


@deep
def reach_matrix_of_tokens(tokens, signature) -> np.ndarray:
    """`reach_matrix` of a program given as canonical tokens (the corpus stores tokens, not ASTs)."""
    ast = c_parser.CParser().parse(canonical_text(tokens), "<canonical>")
    return reach_matrix(list(ast.ext), signature)
