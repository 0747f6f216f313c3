"""The generator's IR: a small typed tree of C expressions, statements and file-scope items.

Every expression node knows its C type (C's usual arithmetic conversions are applied as nodes are built) and may
carry `iv`, the generator's estimate of its value interval, and `deps`, the inputs its value depends on; the
builder (build_expr.py) fills these in, and `hull`/`mag` below are the interval helpers it uses. The tree is
printed by emit.py and transformed by rewrites.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# ============================================================================================== types and literals

FLOAT_CTYPES = ("float", "double")


def is_float_type(ctype: str) -> bool:
    return ctype in FLOAT_CTYPES


def arith_type(a: str, b: str) -> str:
    """C's usual arithmetic conversions, for the types the generator uses."""
    if "double" in (a, b):
        return "double"
    if "float" in (a, b):
        return "float"
    if "unsigned int" in (a, b):
        return "unsigned int"
    return "int"  # everything narrower promotes to int


def format_float(v: float) -> str:
    """A short C literal for a double (without suffix): `2.0`, `0.125`, `1e-06`, `-3.5`."""
    v = float(v)
    if v == int(v) and abs(v) < 1e6:
        return f"{v:.1f}"
    s = f"{v:.6g}"
    if "." not in s and "e" not in s:
        s += ".0"
    return s


# math.h functions the generator calls, by arity (float variants add an `f` suffix: sinf, powf).
MATH1 = {"sin", "cos", "tan", "exp", "expm1", "log", "log10", "log1p", "sqrt", "cbrt", "fabs", "tanh", "atan", "floor",
         "ceil", "sinh", "cosh", "asin", "acos", "erf"}
MATH2 = {"pow", "fmin", "fmax", "atan2", "hypot", "fmod"}

# ============================================================================================== value intervals


def hull(*ivs):
    """The smallest interval containing all of `ivs`."""
    return (min(i[0] for i in ivs), max(i[1] for i in ivs))


def mag(iv) -> float:
    """The largest magnitude in an interval."""
    return max(abs(iv[0]), abs(iv[1]))


# ============================================================================================== expressions


class Expr:
    """Base of expression nodes. `iv` is the generator's estimate of the value interval (None when unknown,
    e.g. on nodes built by rewrites); `deps` the names of inputs the value depends on."""

    ctype = "double"
    iv: tuple[float, float] | None = None
    deps: frozenset = frozenset()

    def children(self) -> list["Expr"]:
        return []


class Num(Expr):
    def __init__(self, value, ctype="double"):
        self.ctype = ctype
        if is_float_type(ctype):
            value = float(format_float(value))  # the value the compiled literal has
        else:
            value = int(value)
        self.value = value
        self.iv = (float(value), float(value))


class Var(Expr):
    """A named scalar: parameter, local, loop counter, `#define` or `static const`."""

    def __init__(self, name, ctype):
        self.name, self.ctype = name, ctype


class Elem(Expr):
    """`a[i]` (or `m[i][j]` with two indices) of an array parameter or table."""

    def __init__(self, name, index, ctype, index2=None):
        self.name, self.index, self.ctype, self.index2 = name, index, ctype, index2

    def children(self):
        return [self.index] + ([self.index2] if self.index2 is not None else [])


class Deref(Expr):
    """`*p` of a pointer parameter."""

    def __init__(self, name, ctype):
        self.name, self.ctype = name, ctype


class Unary(Expr):
    def __init__(self, op, a):
        self.op, self.a = op, a
        self.ctype = "int" if op == "!" else arith_type(a.ctype, "int")

    def children(self):
        return [self.a]


class Bin(Expr):
    """Arithmetic `+ - * / %`, comparison `< <= > >= == !=` and logical `&& ||` operators."""

    def __init__(self, op, a, b):
        self.op, self.a, self.b = op, a, b
        self.ctype = "int" if op in CMP_OPS or op in ("&&", "||") else arith_type(a.ctype, b.ctype)

    def children(self):
        return [self.a, self.b]


class Cond(Expr):
    def __init__(self, c, a, b):
        self.c, self.a, self.b = c, a, b
        self.ctype = arith_type(a.ctype, b.ctype)

    def children(self):
        return [self.c, self.a, self.b]


class Call(Expr):
    def __init__(self, fn, args, ctype):
        self.fn, self.args, self.ctype = fn, list(args), ctype

    def children(self):
        return list(self.args)


class Cast(Expr):
    def __init__(self, ctype, a):
        self.ctype, self.a = ctype, a

    def children(self):
        return [self.a]


class AddrOf(Expr):
    """`&name`: the address of a local, passed to a helper that writes through it."""

    def __init__(self, name, ctype):
        self.name, self.ctype = name, ctype


CMP_OPS = ("<", "<=", ">", ">=", "==", "!=")

# ============================================================================================== statements


class Stmt:
    def blocks(self) -> list[list["Stmt"]]:
        """Nested statement lists (for walkers)."""
        return []


class Decl(Stmt):
    """`T name = init;` (init may be None), or a local array `T name[length];`."""

    def __init__(self, ctype, name, init=None, length=None):
        self.ctype, self.name, self.init, self.length = ctype, name, init, length


class ExprStmt(Stmt):
    """A call for its effect: a void helper writing arrays or pointed-to locals."""

    def __init__(self, expr):
        self.expr = expr


class Assign(Stmt):
    """`target op value;` with op one of `= += -= *= /=`; target is Var, Elem or Deref."""

    def __init__(self, target, op, value):
        self.target, self.op, self.value = target, op, value


class If(Stmt):
    def __init__(self, cond, then, orelse=None):
        self.cond, self.then, self.orelse = cond, then, orelse

    def blocks(self):
        return [self.then] + ([self.orelse] if self.orelse else [])


class Loop(Stmt):
    """A counted loop `for (var = start; var CMP stop; var += step) body`.

    form: "for" or "while" (emitted as `var = start; while (var CMP stop) { body; var++; }`).
    declare: the counter is declared by the loop (`for (int i = 0; ...)`, or `int i = 0; while ...`);
    otherwise it is a local declared earlier. The body never contains `continue` (so both forms agree).
    """

    def __init__(self, var, start, stop, body, cmp="<", step=1, form="for", declare=True):
        self.var, self.start, self.stop, self.body = var, start, stop, body
        self.cmp, self.step, self.form, self.declare = cmp, step, form, declare

    def blocks(self):
        return [self.body]


class Switch(Stmt):
    """`switch (subject) { case k: ... break; ... default: ... }`; cases are (labels, body) pairs; `names` maps
    a label value to an enum constant spelling it."""

    def __init__(self, subject, cases, default, names=None):
        self.subject, self.cases, self.default, self.names = subject, cases, default, names or {}

    def blocks(self):
        return [body for _, body in self.cases] + [self.default]


class Break(Stmt):
    pass


class Return(Stmt):
    def __init__(self, value):
        self.value = value



def stmt_exprs(s: Stmt) -> list[Expr]:
    """The expressions directly inside one statement (not those of nested blocks)."""
    if isinstance(s, Decl):
        return [s.init] if s.init is not None else []
    if isinstance(s, Assign):
        return [s.target, s.value]
    if isinstance(s, If):
        return [s.cond]
    if isinstance(s, Loop):
        return [s.start, s.stop]
    if isinstance(s, Switch):
        return [s.subject]
    if isinstance(s, Return):
        return [s.value]
    if isinstance(s, ExprStmt):
        return [s.expr]
    return []


# ============================================================================================== top level


@dataclass
class Define:
    name: str
    value: Expr


@dataclass
class Const:
    ctype: str
    name: str
    value: Expr


@dataclass
class Enum:
    """`enum name { A = 0, B = 1, ... };` (name may be empty); its constants label switch cases."""

    name: str
    members: list
    values: list


@dataclass
class Table:
    """`static const T name[n] = {...}` or, with `cols`, `static const T name[rows][cols]`."""

    ctype: str
    name: str
    values: list
    cols: int | None = None


@dataclass
class PDecl:
    """A parameter. kind: scalar | array_in (`const T a[n]`) | ptr_in (`const T *a` + shape pragma) |
    ptr_out (`T *p`) | array_out (`T r[n]`) | inout (`T *p`, read then written)."""

    name: str
    ctype: str
    kind: str = "scalar"
    n: int | None = None
    lo: float | None = None
    hi: float | None = None

    @property
    def is_input(self) -> bool:
        return self.kind in ("scalar", "array_in", "ptr_in", "inout")


@dataclass
class Function:
    name: str
    ret: str  # "void" or a scalar type
    params: list
    body: list
    storage: str = ""  # "", "static", "static inline"


@dataclass
class Unit:
    """A whole program: file-scope items in order (Define, Const, Table, helper Function), then the target."""

    items: list
    target: Function
    style: dict = field(default_factory=dict)  # emission style: braces, indent
