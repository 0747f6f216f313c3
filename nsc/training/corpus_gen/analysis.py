"""Facts read off a finished IR: names referenced, unreachable file-scope items pruned, construct counts,
the file-scope names to rename, and the front-end Signature of the target."""

from __future__ import annotations

from collections import Counter

from nsc.training.corpus_gen.ir import (MATH1, MATH2, AddrOf, Assign, Bin, Call, Cast, Cond, Const, Decl, Define, Deref,
                                        Elem, Enum, ExprStmt, Function, If, Loop, Return, Switch, Table, Unit, Var,
                                        is_float_type, stmt_exprs)


def referenced_names(stmts) -> Counter:
    """How often each name is referred to by the expressions in `stmts` (variables, arrays, called functions);
    assignment targets count too."""
    names = Counter()

    def walk_expr(e):
        if isinstance(e, (Var, Elem, Deref, AddrOf)):
            names[e.name] += 1
        elif isinstance(e, Call):
            names[e.fn] += 1
        for ch in e.children():
            walk_expr(ch)

    def walk(ss):
        for s in ss:
            for e in stmt_exprs(s):
                walk_expr(e)
            for b in s.blocks():
                walk(b)

    walk(stmts)
    return names


def walk_assign_targets(stmts):
    """Names assigned by `=`-family statements in `stmts` (nested blocks included)."""
    for s in stmts:
        if isinstance(s, Assign) and isinstance(s.target, (Var, Elem, Deref)):
            yield s.target.name
        for b in s.blocks():
            yield from walk_assign_targets(b)


def prune_unused(unit: Unit) -> Unit:
    """Drop file-scope items (helpers, constants, tables) that the target does not reach."""
    by_name = {it.name: it for it in unit.items}
    reached, todo = set(), [unit.target]
    while todo:
        fn = todo.pop()
        for n in referenced_names(fn.body):
            if n in by_name and n not in reached:
                reached.add(n)
                if isinstance(by_name[n], Function):
                    todo.append(by_name[n])
                elif isinstance(by_name[n], (Define, Const)):
                    pass
    unit.items = [it for it in unit.items if it.name in reached or isinstance(it, Enum)]
    return unit


def toplevel_names(unit: Unit) -> list[str]:
    """File-scope names a batched translation unit must rename: constants, tables, helpers, the target."""
    names = [it.name for it in unit.items if it.name] + [unit.target.name]
    return names + [m for it in unit.items if isinstance(it, Enum) for m in it.members]


def construct_counts(unit: Unit) -> Counter:
    """Counts of constructs in a program (for diversity checks and coverage); derived from the IR only."""
    c = Counter()

    def walk_expr(e):
        if isinstance(e, Call):
            c["call:" + e.fn if (e.fn in MATH1 | MATH2 or e.fn[:-1] in MATH1 | MATH2) else "call:helper"] += 1
        if isinstance(e, Cond):
            c["ternary"] += 1
        if isinstance(e, Cast):
            c["cast"] += 1
        if isinstance(e, Bin):
            c["op" + e.op] += 1
        for ch in e.children():
            walk_expr(ch)

    def walk(stmts):
        for s in stmts:
            c["stmt"] += 1
            if isinstance(s, Decl):
                c["decl:" + s.ctype + ("[]" if s.length else "")] += 1
                if s.init is not None:
                    walk_expr(s.init)
            elif isinstance(s, Assign):
                c["assign" + s.op] += 1
                walk_expr(s.value)
                walk_expr(s.target)
            elif isinstance(s, If):
                c["if"] += 1
                c["else"] += bool(s.orelse)
                walk_expr(s.cond)
            elif isinstance(s, Loop):
                c[s.form] += 1
                walk_expr(s.stop)
            elif isinstance(s, Switch):
                c["switch"] += 1
                walk_expr(s.subject)
            elif isinstance(s, Return):
                walk_expr(s.value)
                c["return"] += 1
            elif isinstance(s, ExprStmt):
                c["call_stmt"] += 1
                walk_expr(s.expr)
            for b in s.blocks():
                walk(b)

    for it in unit.items:
        if isinstance(it, Function):
            c["helper"] += 1
            c["helper:" + it.storage] += 1
            walk(it.body)
        elif isinstance(it, Table):
            c["table2d" if it.cols else "table"] += 1
        elif isinstance(it, Define):
            c["define"] += 1
        elif isinstance(it, Const):
            c["static_const"] += 1
        elif isinstance(it, Enum):
            c["enum"] += 1
    walk(unit.target.body)
    for p in unit.target.params:
        c["param:" + p.kind] += 1
        if p.kind == "scalar" and not is_float_type(p.ctype):
            c["param:int"] += 1
        c["type:" + p.ctype] += 1
    c["ret:" + unit.target.ret] += 1
    return c


def signature_of(unit: Unit):
    """The Signature the front-end gives the target (NOTES.md section 2), built from the IR: inputs in parameter
    order (arrays element by element), outputs the return value then the written pointer/array parameters.
    Used to cross-check the front-end and to run programs in tests without parsing them."""
    from nsc.frontend.program import Param, Port, Signature

    fn = unit.target
    params, inputs, outputs = [], [], []
    ret = None if fn.ret == "void" else fn.ret
    if ret is not None:
        outputs.append(Port("return", "return", None, ret))
    for p in fn.params:
        pointer = p.kind in ("ptr_in", "ptr_out", "inout")
        shape = p.n if p.kind in ("array_in", "ptr_in", "array_out") else (1 if pointer else None)
        writes = p.kind in ("ptr_out", "array_out", "inout")
        params.append(Param(p.name, p.ctype, shape, pointer, p.kind in ("array_in", "ptr_in"),
                            reads=p.is_input, writes=writes))
        lo, hi = float(p.lo) if p.lo is not None else None, float(p.hi) if p.hi is not None else None
        if p.kind in ("array_in", "ptr_in"):
            inputs += [Port(f"{p.name}[{i}]", p.name, i, p.ctype, lo, hi) for i in range(p.n)]
        elif p.is_input:
            inputs.append(Port(p.name, p.name, None, p.ctype, lo, hi))
        if p.kind == "array_out":
            outputs += [Port(f"{p.name}[{i}]", p.name, i, p.ctype) for i in range(p.n)]
        elif writes:  # (read and written: the output is p', as the front-end names it)
            outputs.append(Port(p.name + ("'" if p.is_input else ""), p.name, None, p.ctype))
    return Signature(fn.name, ret, tuple(params), tuple(inputs), tuple(outputs))
