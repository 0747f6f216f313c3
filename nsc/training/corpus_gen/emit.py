"""Printing the IR as C text (`emit_unit`), optionally renaming names so that many programs can share one
translation unit."""

from __future__ import annotations

from nsc.training.corpus_gen.ir import (AddrOf, Assign, Bin, Break, Call, Cast, Cond, Const, Decl, Define, Deref, Elem,
                                        Enum, Expr, ExprStmt, Function, If, Loop, Num, PDecl, Return, Stmt, Switch,
                                        Table, Unary, Unit, Var, format_float, is_float_type)

PREC = {"||": 4, "&&": 5, "==": 9, "!=": 9, "<": 10, "<=": 10, ">": 10, ">=": 10,
        "+": 12, "-": 12, "*": 13, "/": 13, "%": 13}


def _prec(e: Expr) -> int:
    if isinstance(e, Bin):
        return PREC[e.op]
    if isinstance(e, Cond):
        return 3
    if isinstance(e, (Unary, Cast)):
        return 14
    if isinstance(e, Num) and e.value < 0:
        return 14
    return 16


class Emitter:
    """Writes IR as C text. `rename` maps names to new ones everywhere they occur (the corpus runner renames
    file-scope names and shape-pragma parameters so that many programs share one translation unit)."""

    def __init__(self, rename=None, indent="    ", braces="always"):
        self.rename = rename or {}
        self.ind = indent
        self.braces = braces  # "always" or "minimal"

    def name(self, n: str) -> str:
        return self.rename.get(n, n)

    # ---- expressions
    def expr(self, e: Expr) -> str:
        if isinstance(e, Num):
            if is_float_type(e.ctype):
                return format_float(e.value) + ("f" if e.ctype == "float" else "")
            return str(e.value) + ("u" if e.ctype == "unsigned int" else "")
        if isinstance(e, Var):
            return self.name(e.name)
        if isinstance(e, Elem):
            s = f"{self.name(e.name)}[{self.expr(e.index)}]"
            return s + (f"[{self.expr(e.index2)}]" if e.index2 is not None else "")
        if isinstance(e, Deref):
            return f"*{self.name(e.name)}"
        if isinstance(e, AddrOf):
            return f"&{self.name(e.name)}"
        if isinstance(e, Unary):
            inner = self.expr(e.a)
            if _prec(e.a) < 14 or (e.op == "-" and inner.startswith("-")):
                inner = f"({inner})"
            return f"{e.op}{inner}"
        if isinstance(e, Cast):
            inner = self.expr(e.a)
            return f"({e.ctype}){inner if _prec(e.a) >= 14 else '(' + inner + ')'}"
        if isinstance(e, Bin):
            p = PREC[e.op]
            a, b = self.expr(e.a), self.expr(e.b)
            if _prec(e.a) < p:
                a = f"({a})"
            if _prec(e.b) <= p:  # keeps the tree's association exactly: a - (b - c), a + (b + c)
                b = f"({b})"
            return f"{a} {e.op} {b}"
        if isinstance(e, Cond):
            c, a, b = self.expr(e.c), self.expr(e.a), self.expr(e.b)
            c = f"({c})" if _prec(e.c) <= 4 else c
            a = f"({a})" if _prec(e.a) <= 3 else a
            b = f"({b})" if _prec(e.b) <= 3 else b
            return f"{c} ? {a} : {b}"
        if isinstance(e, Call):
            return f"{self.name(e.fn)}({', '.join(self.expr(a) for a in e.args)})"
        raise TypeError(f"unknown expression {e!r}")

    # ---- statements
    def block(self, stmts, depth) -> list[str]:
        out = []
        for s in stmts:
            out.extend(self.stmt(s, depth))
        return out

    def body_lines(self, head: str, body, depth) -> list[str]:
        pad = self.ind * depth
        if self.braces == "minimal" and len(body) == 1 and isinstance(body[0], (Assign, Return, Break)):
            return [pad + head] + self.stmt(body[0], depth + 1)
        return [pad + head + " {"] + self.block(body, depth + 1) + [pad + "}"]

    def stmt(self, s: Stmt, depth) -> list[str]:
        pad = self.ind * depth
        if isinstance(s, Decl):
            init = f" = {self.expr(s.init)}" if s.init is not None else ""
            dims = f"[{s.length}]" if s.length else ""
            return [f"{pad}{s.ctype} {self.name(s.name)}{dims}{init};"]
        if isinstance(s, ExprStmt):
            return [f"{pad}{self.expr(s.expr)};"]
        if isinstance(s, Assign):
            return [f"{pad}{self.expr(s.target)} {s.op} {self.expr(s.value)};"]
        if isinstance(s, Return):
            return [f"{pad}return {self.expr(s.value)};"]
        if isinstance(s, Break):
            return [f"{pad}break;"]
        if isinstance(s, If):
            lines = self.body_lines(f"if ({self.expr(s.cond)})", s.then, depth)
            orelse = s.orelse
            while orelse:
                if len(orelse) == 1 and isinstance(orelse[0], If):  # else-if chain
                    nested = orelse[0]
                    lines += self._else(f"else if ({self.expr(nested.cond)})", nested.then, depth)
                    orelse = nested.orelse
                else:
                    lines += self._else("else", orelse, depth)
                    orelse = None
            return lines
        if isinstance(s, Loop):
            v = self.name(s.var)
            step = f"{v}++" if s.step == 1 else f"{v}--" if s.step == -1 else f"{v} += {s.step}"
            cond = f"{v} {s.cmp} {self.expr(s.stop)}"
            if s.form == "for":
                init = f"int {v} = {self.expr(s.start)}" if s.declare else f"{v} = {self.expr(s.start)}"
                return self.body_lines(f"for ({init}; {cond}; {step})", s.body, depth)
            init = f"int {v} = {self.expr(s.start)};" if s.declare else f"{v} = {self.expr(s.start)};"
            return ([pad + init, f"{pad}while ({cond}) {{"] + self.block(s.body, depth + 1)
                    + [f"{pad}{self.ind}{step};", pad + "}"])
        if isinstance(s, Switch):
            lines = [f"{pad}switch ({self.expr(s.subject)}) {{"]
            for labels, body in s.cases:
                lines += [f"{pad}case {self.name(s.names[k]) if k in s.names else k}:" for k in labels]
                lines += self.block(body, depth + 1) + [f"{pad}{self.ind}break;"]
            lines += [f"{pad}default:"] + self.block(s.default, depth + 1) + [f"{pad}{self.ind}break;"]
            return lines + [pad + "}"]
        raise TypeError(f"unknown statement {s!r}")

    def _else(self, head, body, depth):
        return self.body_lines(head, body, depth)

    # ---- top level
    def param(self, p: PDecl) -> str:
        p = PDecl(self.name(p.name), p.ctype, p.kind, p.n, p.lo, p.hi)
        if p.kind == "scalar":
            return f"{p.ctype} {p.name}"
        if p.kind == "array_in":
            return f"const {p.ctype} {p.name}[{p.n}]"
        if p.kind == "ptr_in":
            return f"const {p.ctype} *{p.name}"
        if p.kind == "array_const":  # a helper's array parameter
            return f"const {p.ctype} {p.name}[{p.n}]"
        if p.kind in ("ptr_out", "inout"):
            return f"{p.ctype} *{p.name}"
        if p.kind == "array_out":
            return f"{p.ctype} {p.name}[{p.n}]"
        raise ValueError(p.kind)

    def function(self, f: Function) -> list[str]:
        storage = f.storage + " " if f.storage else ""
        params = ", ".join(self.param(p) for p in f.params) or "void"
        return [f"{storage}{f.ret} {self.name(f.name)}({params})", "{"] + self.block(f.body, 1) + ["}"]

    def item(self, it) -> list[str]:
        if isinstance(it, Define):
            v = self.expr(it.value)
            return [f"#define {self.name(it.name)} {v if _prec(it.value) >= 16 else '(' + v + ')'}"]
        if isinstance(it, Const):
            return [f"static const {it.ctype} {self.name(it.name)} = {self.expr(it.value)};"]
        if isinstance(it, Table):
            fmt = (lambda v: format_float(v) + ("f" if it.ctype == "float" else "")) if is_float_type(it.ctype) \
                else str
            if it.cols:
                rows = [it.values[i:i + it.cols] for i in range(0, len(it.values), it.cols)]
                body = [f"    {{{', '.join(fmt(v) for v in r)}}}," for r in rows]
                return ([f"static const {it.ctype} {self.name(it.name)}[{len(rows)}][{it.cols}] = {{"] + body
                        + ["};"])
            vals = [fmt(v) for v in it.values]
            lines, cur = [], []
            for v in vals:  # wrap long tables like people do
                cur.append(v)
                if len(cur) == 8:
                    lines.append("    " + ", ".join(cur) + ",")
                    cur = []
            if cur:
                lines.append("    " + ", ".join(cur) + ",")
            lines[-1] = lines[-1].rstrip(",")
            return [f"static const {it.ctype} {self.name(it.name)}[{len(vals)}] = {{"] + lines + ["};"]
        if isinstance(it, Function):
            return self.function(it)
        if isinstance(it, Enum):
            members = ", ".join(f"{self.name(m)} = {v}" for m, v in zip(it.members, it.values))
            return [f"enum {self.name(it.name) + ' ' if it.name else ''}{{ {members} }};"]
        raise TypeError(it)


def pragma_lines(target: Function, rename=None) -> list[str]:
    rename = rename or {}
    lines = []
    for p in target.params:
        name = rename.get(p.name, p.name)
        if p.kind == "ptr_in":
            lines.append(f"#pragma nsc shape {name} {p.n}")
        if p.is_input:
            lines.append(f"#pragma nsc range {name} {_range_num(p.lo, p.ctype)} {_range_num(p.hi, p.ctype)}")
    return lines


def _range_num(v, ctype) -> str:
    return str(int(v)) if not is_float_type(ctype) else f"{v:g}"


def emit_unit(unit: Unit, rename=None, header=True, pragmas=True) -> str:
    """C text of a program. header: start with `#include <math.h>`; pragmas: range/shape lines before the target."""
    em = Emitter(rename, indent=unit.style.get("indent", "    "), braces=unit.style.get("braces", "always"))
    lines = ["#include <math.h>", ""] if header else []
    prev = None
    for it in unit.items:
        if prev is not None and (isinstance(it, Function) or type(it) is not type(prev)):
            lines.append("")
        lines += em.item(it)
        prev = it
    if unit.items:
        lines.append("")
    if pragmas:
        lines += pragma_lines(unit.target, rename)
    lines += em.function(unit.target)
    return "\n".join(lines) + "\n"
