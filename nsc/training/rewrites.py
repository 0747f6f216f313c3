"""Semantics-preserving rewrites of generated programs (augmentation: the model should learn what a program
computes, not how it is spelled).

They work on the generator's IR (corpus_gen.Unit), where types are known, so each rewrite can be exact, i.e. the
rewritten program computes bit-identical outputs under IEEE arithmetic without FMA contraction:
  rename       locals, loop counters, helpers and file-scope constants get new names;
  reorder      adjacent independent statements swap (no name written by one is read or written by the other);
  commute      `a + b` <-> `b + a`, `a * b` <-> `b * a`, `a < b` <-> `b > a`;
  halve        floating `x / 2^k` <-> `x * 2^-k` (exact: powers of two), `x * 2` <-> `x + x`, `a - b` -> `a + -b`;
  ternary      `if (c) v = a; else v = b;` <-> `v = c ? a : b;` (pure branches, value-preserving conversions);
  loops        `for` <-> `while`;
  compound     `v op= e` <-> `v = v op (e)`;
  split        a subexpression is hoisted into a new temporary of exactly its own type (never out of a ternary
               branch or the right side of `&&`/`||`, whose evaluation is conditional, nor into a `case` label).
`rewrite(unit, seed)` returns a rewritten deep copy; tests check equivalence by running both natively.
"""

from __future__ import annotations

import copy
import random

from nsc.training.corpus_gen import (CMP_OPS, AddrOf, Assign, Bin, Break, Call, Cast, Cond, Decl, Deref, Elem, Expr,
                                     ExprStmt, Function, If,
                                     Loop, Num, Return, Stmt, Switch, Unary, Unit, Var, arith_type, is_float_type,
                                     stmt_exprs)

REWRITES = ("rename", "reorder", "commute", "halve", "ternary", "loops", "compound", "split")

SWAP_CMP = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "==": "==", "!=": "!="}
NEW_LOCAL_NAMES = ["a", "b", "c", "d", "e", "f", "g", "h", "p", "q", "r", "s", "t", "u", "w", "z", "tmp", "aux",
                   "val", "res", "acc", "cur", "nxt", "lhs", "rhs", "part", "piece", "fac", "sub", "x1", "x2", "y2"]
NEW_LOOP_NAMES = ["i", "j", "k", "n", "m", "ii", "jj", "idx", "it", "step"]


# ---------------------------------------------------------------------------------------------- walkers

def functions(unit: Unit) -> list[Function]:
    return [it for it in unit.items if isinstance(it, Function)] + [unit.target]


def stmt_lists(stmts):
    """Every statement list, outermost first (the list itself, then nested blocks)."""
    yield stmts
    for s in stmts:
        for b in s.blocks():
            yield from stmt_lists(b)


def map_expr(e: Expr, f, conditional=False):
    """Rebuild `e` bottom-up with `f(node, conditional)`; conditional is True inside a ternary branch or the
    right operand of `&&`/`||` (code that may not run)."""
    if isinstance(e, Bin):
        e.a = map_expr(e.a, f, conditional)
        e.b = map_expr(e.b, f, conditional or e.op in ("&&", "||"))
    elif isinstance(e, Cond):
        e.c = map_expr(e.c, f, conditional)
        e.a = map_expr(e.a, f, True)
        e.b = map_expr(e.b, f, True)
    elif isinstance(e, Call):
        e.args = [map_expr(a, f, conditional) for a in e.args]
    elif isinstance(e, (Unary, Cast)):
        e.a = map_expr(e.a, f, conditional)
    elif isinstance(e, Elem):
        e.index = map_expr(e.index, f, conditional)
        if e.index2 is not None:
            e.index2 = map_expr(e.index2, f, conditional)
    return f(e, conditional)


def map_stmt_exprs(s: Stmt, f):
    """Apply map_expr to every expression directly in statement `s`."""
    if isinstance(s, Decl) and s.init is not None:
        s.init = map_expr(s.init, f)
    elif isinstance(s, Assign):
        s.value = map_expr(s.value, f)
        if isinstance(s.target, Elem):
            s.target.index = map_expr(s.target.index, f)
    elif isinstance(s, If):
        s.cond = map_expr(s.cond, f)
    elif isinstance(s, Return):
        s.value = map_expr(s.value, f)
    elif isinstance(s, ExprStmt):
        s.expr = map_expr(s.expr, f)
    elif isinstance(s, Switch):
        pass  # the subject stays an int expression as written
    elif isinstance(s, Loop):
        s.stop = map_expr(s.stop, f)


def all_stmts(unit: Unit):
    for fn in functions(unit):
        for lst in stmt_lists(fn.body):
            yield from lst


def names_in(e: Expr) -> set[str]:
    out = set()

    def visit(x, _):
        if isinstance(x, (Var, Elem, Deref, AddrOf)):
            out.add(x.name)
        elif isinstance(x, Call):
            out.add(x.fn)
        return x

    map_expr(e, visit)
    return out


def transfers_control(s: Stmt) -> bool:
    """Whether a statement is or contains `return` or `break` (it cannot be moved past others)."""
    return isinstance(s, (Return, Break)) or any(transfers_control(x) for b in s.blocks() for x in b)


def reads_writes(s: Stmt) -> tuple[set[str], set[str]]:
    """Names a statement (with its nested blocks) reads and writes; declared names count as written."""
    reads, writes = set(), set()
    for st in [s] + [x for b in s.blocks() for lst in stmt_lists(b) for x in lst]:
        for e in stmt_exprs(st):
            if isinstance(st, Assign) and e is st.target:
                writes.add(e.name)
                if st.op != "=":
                    reads.add(e.name)
                if isinstance(e, Elem):
                    reads |= names_in(e.index)
                continue
            reads |= names_in(e)
        if isinstance(st, Decl):
            writes.add(st.name)
        if isinstance(st, Loop):
            writes.add(st.var)
            reads.add(st.var)
        if isinstance(st, Switch):
            reads |= names_in(st.subject)
        if isinstance(st, ExprStmt):  # a helper call writes through its array and address arguments
            writes |= {a.name for a in st.expr.args if isinstance(a, (Var, AddrOf))}
    return reads, writes


# ---------------------------------------------------------------------------------------------- rewrites

def rw_rename(unit: Unit, rng: random.Random):
    """New names for locals and loop counters (per function), helpers and file-scope constants."""
    taken = set()
    for fn in functions(unit):
        taken |= {p.name for p in fn.params}
        for s in (x for lst in stmt_lists(fn.body) for x in lst):
            if isinstance(s, Decl):
                taken.add(s.name)
            if isinstance(s, Loop):
                taken.add(s.var)
    taken |= {it.name for it in unit.items} | {unit.target.name}

    def fresh(pool):
        for _ in range(20):
            n = rng.choice(pool)
            if n not in taken:
                taken.add(n)
                return n
        k = 2
        base = rng.choice(pool)
        while f"{base}_{k}" in taken:
            k += 1
        taken.add(f"{base}_{k}")
        return f"{base}_{k}"

    glob = {}
    for it in unit.items:
        if it.name and rng.random() < 0.7:
            glob[it.name] = fresh([it.name.lower() + "_fn", "h_" + it.name.lower(), it.name.lower() + "2"]
                                  if isinstance(it, Function) else [it.name + "_C", "K_" + it.name, it.name + "2"])
    for it in unit.items:
        it.name = glob.get(it.name, it.name)
    for fn in functions(unit):
        local = dict(glob)
        stmts = [x for lst in stmt_lists(fn.body) for x in lst]
        declared = [s.name for s in stmts if isinstance(s, Decl)]
        counters = [s.var for s in stmts if isinstance(s, Loop) and s.var not in declared]
        for n in declared + counters:  # names are unique within a generated function
            if rng.random() < 0.8:
                local[n] = fresh(NEW_LOOP_NAMES if n in counters else NEW_LOCAL_NAMES)
        for s in stmts:
            if isinstance(s, Decl):
                s.name = local.get(s.name, s.name)
            if isinstance(s, Loop):
                s.var = local.get(s.var, s.var)

        def ren(e, _):
            if isinstance(e, (Var, Elem, AddrOf)) and e.name in local:
                e.name = local[e.name]
            if isinstance(e, Call) and e.fn in local:
                e.fn = local[e.fn]
            return e

        for s in (x for lst in stmt_lists(fn.body) for x in lst):
            if isinstance(s, Assign) and isinstance(s.target, (Var, Elem)):
                s.target = map_expr(s.target, ren)
            map_stmt_exprs(s, ren)
            if isinstance(s, Switch):
                s.subject = map_expr(s.subject, ren)
            if isinstance(s, Loop):
                s.start = map_expr(s.start, ren)


def rw_reorder(unit: Unit, rng: random.Random):
    """Swap adjacent independent statements (a bubble pass with random choices)."""
    for fn in functions(unit):
        for lst in stmt_lists(fn.body):
            for k in range(len(lst) - 1):
                a, b = lst[k], lst[k + 1]
                if rng.random() < 0.5 or transfers_control(a) or transfers_control(b):
                    continue
                ra, wa = reads_writes(a)
                rb, wb = reads_writes(b)
                if wa & (rb | wb) or wb & ra:
                    continue
                lst[k], lst[k + 1] = b, a


def rw_commute(unit: Unit, rng: random.Random):
    def f(e, _):
        if isinstance(e, Bin) and rng.random() < 0.5:
            if e.op in ("+", "*"):
                e.a, e.b = e.b, e.a
            elif e.op in CMP_OPS:
                e.a, e.b, e.op = e.b, e.a, SWAP_CMP[e.op]
        return e
    for s in all_stmts(unit):
        map_stmt_exprs(s, f)


def _power_of_two(v: float) -> bool:
    import math
    if v <= 0:
        return False
    m, _ = math.frexp(v)
    return m == 0.5


def rw_halve(unit: Unit, rng: random.Random):
    def f(e, _):
        if not isinstance(e, Bin) or not is_float_type(e.ctype) or rng.random() < 0.5:
            return e
        if e.op == "/" and isinstance(e.b, Num) and is_float_type(e.b.ctype) and _power_of_two(abs(e.b.value)):
            return Bin("*", e.a, Num(1.0 / e.b.value, e.b.ctype))
        if e.op == "*" and isinstance(e.b, Num) and is_float_type(e.b.ctype) and _power_of_two(abs(e.b.value)) \
                and abs(e.b.value) < 1 and e.b.value != 0:
            return Bin("/", e.a, Num(1.0 / e.b.value, e.b.ctype))
        if e.op == "*" and isinstance(e.b, Num) and e.b.value == 2.0 and e.b.ctype == e.ctype \
                and isinstance(e.a, (Var, Elem, Deref)) and e.a.ctype == e.ctype:
            return Bin("+", e.a, copy.deepcopy(e.a))
        if e.op == "-" and is_float_type(e.b.ctype) and not isinstance(e.b, Num):
            return Bin("+", e.a, Unary("-", e.b))
        return e
    for s in all_stmts(unit):
        map_stmt_exprs(s, f)


def _same_target(a, b) -> bool:
    if type(a) is not type(b) or a.name != b.name:
        return False
    if isinstance(a, Elem):
        return isinstance(a.index, Num) and isinstance(b.index, Num) and a.index.value == b.index.value \
            and a.index2 is None and b.index2 is None
    return True


def _safe_select(target_ctype: str, a: Expr, b: Expr) -> bool:
    """`t = c ? a : b` converts both branches to their common type first; equal to the if/else form when that
    intermediate conversion is exact."""
    common = arith_type(a.ctype, b.ctype)
    if target_ctype == "double":
        return True
    if is_float_type(target_ctype):
        return common in ("double", "float") or a.ctype == b.ctype
    return a.ctype == b.ctype or common == "double"


def rw_ternary(unit: Unit, rng: random.Random):
    """if/else assigning one target <-> a conditional expression; both directions."""
    for fn in functions(unit):
        types = {d.name: d.ctype for lst in stmt_lists(fn.body) for d in lst if isinstance(d, Decl)}
        types |= {p.name: p.ctype for p in fn.params}
        for lst in stmt_lists(fn.body):
            for k, s in enumerate(lst):
                if rng.random() < 0.5:
                    continue
                if isinstance(s, If) and len(s.then) == 1 and isinstance(s.then[0], Assign) \
                        and s.then[0].op == "=":
                    t = s.then[0]
                    tctype = types.get(t.target.name) if not isinstance(t.target, (Deref, Elem)) else t.target.ctype
                    if tctype is None:
                        continue
                    if s.orelse is None:
                        other = copy.deepcopy(t.target)
                        if isinstance(other, Elem) and not isinstance(other.index, Num):
                            continue
                    elif len(s.orelse) == 1 and isinstance(s.orelse[0], Assign) and s.orelse[0].op == "=" \
                            and _same_target(t.target, s.orelse[0].target):
                        other = s.orelse[0].value
                    else:
                        continue
                    other.ctype = other.ctype if not isinstance(other, Deref) else tctype
                    if not _safe_select(tctype, t.value, other):
                        continue
                    lst[k] = Assign(t.target, "=", Cond(s.cond, t.value, other))
                elif isinstance(s, Assign) and s.op == "=" and isinstance(s.value, Cond) \
                        and isinstance(s.target, Var):
                    tctype = types.get(s.target.name)
                    c = s.value
                    if tctype is None or not _safe_select(tctype, c.a, c.b):
                        continue
                    lst[k] = If(c.c, [Assign(s.target, "=", c.a)], [Assign(copy.deepcopy(s.target), "=", c.b)])


def rw_loops(unit: Unit, rng: random.Random):
    for s in all_stmts(unit):
        if isinstance(s, Loop) and rng.random() < 0.6:
            s.form = "while" if s.form == "for" else "for"


def rw_compound(unit: Unit, rng: random.Random):
    for lst in (x for fn in functions(unit) for x in stmt_lists(fn.body)):
        for k, s in enumerate(lst):
            if not isinstance(s, Assign) or rng.random() < 0.5:
                continue
            if s.op != "=":
                lst[k] = Assign(s.target, "=", Bin(s.op[0], copy.deepcopy(s.target), s.value))
            elif isinstance(s.value, Bin) and s.value.op in ("+", "-", "*", "/") \
                    and _same_target(s.target, s.value.a) and isinstance(s.target, (Var, Deref)):
                lst[k] = Assign(s.target, s.value.op + "=", s.value.b)


def rw_split(unit: Unit, rng: random.Random):
    """Hoist subexpressions into temporaries of exactly their own type."""
    taken = {x.name for x in all_stmts(unit) if isinstance(x, Decl)} | {it.name for it in unit.items}
    taken |= {p.name for fn in functions(unit) for p in fn.params} | {unit.target.name}
    taken |= {x.var for x in all_stmts(unit) if isinstance(x, Loop)}
    counter = [0]

    def fresh():
        while True:
            counter[0] += 1
            n = rng.choice(["t", "tmp", "aux", "part", "sub", "q"]) + str(counter[0])
            if n not in taken:
                taken.add(n)
                return n

    for fn in functions(unit):
        case_bodies = {id(b) for lst in stmt_lists(fn.body) for s in lst if isinstance(s, Switch)
                       for _, b in s.cases} | {id(s.default) for lst in stmt_lists(fn.body) for s in lst
                                              if isinstance(s, Switch)}
        for lst in list(stmt_lists(fn.body)):
            k = 0
            while k < len(lst):
                s = lst[k]
                if isinstance(s, (Decl, Assign, Return)) and rng.random() < 0.4 and \
                        not (id(lst) in case_bodies and k == 0):
                    hoisted = []

                    def f(e, conditional):
                        if conditional or hoisted or not isinstance(e, (Bin, Call)) or rng.random() < 0.6:
                            return e
                        if e.ctype not in ("double", "float", "int") or (isinstance(e, Bin) and e.op in CMP_OPS):
                            return e
                        name = fresh()
                        hoisted.append(Decl(e.ctype, name, e))
                        return Var(name, e.ctype)

                    root = s.init if isinstance(s, Decl) else s.value
                    if root is not None and isinstance(root, (Bin, Call, Cond, Unary, Cast)):
                        new_root = map_expr(root, f)
                        # hoisting the whole right-hand side would only rename it: leave those alone
                        if hoisted and not (isinstance(new_root, Var) and new_root.name == hoisted[0].name):
                            if isinstance(s, Decl):
                                s.init = new_root
                            else:
                                s.value = new_root
                            lst.insert(k, hoisted[0])
                            k += 1
                k += 1


RW_FUNCS = {"rename": rw_rename, "reorder": rw_reorder, "commute": rw_commute, "halve": rw_halve,
            "ternary": rw_ternary, "loops": rw_loops, "compound": rw_compound, "split": rw_split}


EXPR_FIELDS = {Bin: ("a", "b"), Cond: ("c", "a", "b"), Unary: ("a",), Cast: ("a",), Elem: ("index", "index2")}
STMT_FIELDS = {Decl: ("init",), Assign: ("target", "value"), If: ("cond",), Return: ("value",),
               Switch: ("subject",), Loop: ("start", "stop"), ExprStmt: ("expr",)}


def _unshare_expr(e, seen: set):
    if e is None:
        return None
    if id(e) in seen:
        e = copy.deepcopy(e)
    seen.add(id(e))
    if isinstance(e, Call):
        e.args = [_unshare_expr(a, seen) for a in e.args]
    for f in EXPR_FIELDS.get(type(e), ()):
        setattr(e, f, _unshare_expr(getattr(e, f), seen))
    return e


def unshare(unit: Unit) -> None:
    """Give every expression node a single parent. The generator reuses nodes (`clamp_expr` reads its argument
    twice, a Newton step calls the same helper arguments twice); rewrites mutate nodes in place, and must not
    change a node's other occurrences with it."""
    seen: set = set()
    for s in all_stmts(unit):
        for f in STMT_FIELDS.get(type(s), ()):
            setattr(s, f, _unshare_expr(getattr(s, f), seen))


def rewrite(unit: Unit, seed: int, which=None) -> tuple[Unit, list[str]]:
    """A rewritten deep copy of `unit` and the names of the rewrites applied (each chosen with probability 1/2
    unless `which` names them)."""
    rng = random.Random(seed)
    out = copy.deepcopy(unit)
    unshare(out)
    chosen = list(which) if which is not None else [r for r in REWRITES if rng.random() < 0.5] or ["commute"]
    for name in REWRITES:
        if name in chosen:
            RW_FUNCS[name](out, rng)
    return out, chosen
