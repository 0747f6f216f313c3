"""The trace: the target function's C statements -> its computation graph (graph.py), exactly.

An abstract interpreter, like the statistical linearisation (linearize.py, whose memory model, declarations,
lvalues, pointers and helper calls it inherits), but over graph nodes instead of statistics, and with predicated
execution in place of weighted merges:
  * values are Python numbers (constants, folded with C's integer semantics), pointers (`Ptr`) or graph nodes;
  * a branch on a condition the input box does not decide runs both arms, each under its condition: a store
    becomes cell = select(active, new, old), where `active` is the conjunction of the conditions of the
    branches it is in and of "not yet returned / broken out / continued"; a `return` under a condition
    selects the returned value where it holds and marks those paths done. A condition, or a flag, applies
    only to the variables that outlive it: a local declared inside the branch, or after the flag's loop
    turn or function started, is never read on the paths it excludes, so it is stored as is (a loop
    counter stays a constant after a `return` under a condition);
  * a loop with constant bounds unrolls exactly; one whose condition stays undecided unrolls under the
    predicate "still running" for at most MAX_ITERATIONS iterations (network.py then drops the iterations no
    input reaches, by the network's own values, and refuses a loop a synthetic input is still in at the cut);
  * `break`, `continue` and `switch` under undecided conditions are flags in that predicate.
`trace(program_code, signature)` -> a `Trace` (the graph and a node or constant per output), or an
`Unsupported` reason (linearize.py's, for code outside the subset: unions, goto, bit operations on computed
values, writes at a computed index, recursion).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from pycparser import c_ast

from nsc.analysis.graph import FLATTEN_TERMS, MATH_NAMES, MAX_DEPTH, Graph, evaluate, is_node, plan, spread_inputs
from nsc.analysis.declared import FLOAT32, Layout, copied, slot_of, type_names
from nsc.analysis.linearize import (INFINITY_BUILTINS, MATH_1, MATH_2, MAX_CALL_DEPTH, MAX_STEPS, Interpreter,
                                    _parameters, _wrap, library_name, located, math_function, place,
                                    pointer_difference, pointer_order)
from nsc.analysis.values import (Aggregate, Function, FunctionChoice, Ptr, Unsupported, c_div, c_mod, check_value,
                                 is_const, same_place)
from nsc.frontend.c_types import SCALAR_SIZES, canonical_scalar
from nsc.frontend.canonical import TARGET_NAME, walk
from nsc.frontend.program import INTEGER_LIMITS

MAX_ITERATIONS = 64  # iterations of a loop whose condition the input box does not decide
MAX_NODES = 60_000  # a graph beyond this is too large to translate (e.g. thousands of unrolled steps)
MAX_NOTED_PLACES = 16  # places checked on spread inputs for overflow, and for cancelling sums (`noted_warnings`)
ROUNDING_NOTED = 1e-6  # a double sum whose terms' rounding is more than this share of its spread is noted


@dataclass(frozen=True)
class Limits:
    """How far a trace goes: `NETWORK` for a graph to translate into layers (structure(), network.py), whose
    depth the network's layer limit bounds; `EVALUATION` for a graph only evaluated in numpy (distillation from
    the trace, nsc/compiler/traced.py), where depth costs nothing and long loops may unroll further."""

    iterations: int = MAX_ITERATIONS
    nodes: int = MAX_NODES
    steps: int = MAX_STEPS  # the interpreter's work (linearize.py)
    depth: int | None = 2 * MAX_DEPTH  # (twice the network's limit: a value this deep may yet go unused)
    # inputs spread over the box (graph.spread_inputs) on which a loop the box does not decide is evaluated at
    # turns PROBE_FROM, 2 PROBE_FROM, 4 PROBE_FROM ...: where none of them is still in it, it is cut there (0: never)
    probe: int = 0


NETWORK = Limits()
# A time-stepping loop may run thousands of turns on part of the box (a projectile's flight): traced until the
# probe has left it, within the node limit (a 250k-node graph: ~5 s to trace, ~5 s to evaluate on 25k rows)
EVALUATION = Limits(iterations=4096, nodes=250_000, steps=1_000_000, depth=None, probe=512)
PROBE_FROM = 64
REACHED_PROBE = 256  # probe inputs for a loop reached under an uncertain condition, where Limits.probe is 0
MIN_REACHED = 16  # ... of which at least this many must reach the loop for it to be cut where they have left it
PROBE_KEEP = 4096  # the most nodes whose probe values are kept from one probe to the next ...
# ... made in the last turns: a turn's state is computed from the turn before's and its own, and a counter's sum
# from up to FLATTEN_TERMS turns' steps (graph.Graph.affine flattens sums of that many terms)
PROBE_TURNS = FLATTEN_TERMS + 2
NARROW_TYPES = ("char", "signed char", "unsigned char", "short", "unsigned short", "_Bool")
_RANK = {"int": 1, "long": 2, "long long": 3}  # (int 32 bits, long and long long 64: LP64, as gcc on Linux)
_BITS = {"int": 32, "long": 64, "long long": 64}


def _promoted(ctype: str | None) -> str | None:
    """C's integer promotion: the narrow types compute as int."""
    return "int" if ctype in NARROW_TYPES else ctype


def _common_type(a: str | None, b: str | None) -> str | None:
    """The type C's usual arithmetic conversions give two integer operands (None where either is not known)."""
    a, b = _promoted(a), _promoted(b)
    if a is None or b is None:
        return None
    if a == b:
        return a
    signed_a, signed_b = not a.startswith("unsigned"), not b.startswith("unsigned")
    base_a, base_b = a.removeprefix("unsigned "), b.removeprefix("unsigned ")
    if signed_a == signed_b:
        return a if _RANK[base_a] >= _RANK[base_b] else b
    unsigned, signed = (b, a) if signed_a else (a, b)
    if _RANK[unsigned.removeprefix("unsigned ")] >= _RANK[signed]:
        return unsigned
    return signed if _BITS[signed] > _BITS[unsigned.removeprefix("unsigned ")] else "unsigned " + signed


@dataclass
class Trace:
    """The function as a graph: outputs[j] is output j's node (or a constant); graph.inputs the inputs'."""

    graph: Graph
    outputs: list
    # per loop cut short (at the turn limit, or where the probe had left it) while some input could still be in
    # it, the truth (a node) that a path is still in it after the last turn traced: where it holds, the graph's
    # values are not the program's (nsc/compiler/traced.py checks fresh inputs against it)
    still_running: list = field(default_factory=list)
    cut_after: list = field(default_factory=list)  # the turns each of those loops was traced for
    # what C leaves the program and the graph does not model, one message a place, ending `(at file:line:col)`:
    # signed arithmetic that overflows on the box (undefined; gcc's code wraps, the graph computes the integers'
    # value) and double sums whose terms cancel (`Tracer.noted_warnings`)
    warnings: list = field(default_factory=list)

    @property
    def truncated_loops(self) -> int:
        return len(self.still_running)

    def first_still_running(self, running: list) -> tuple[int, float] | None:
        """(the turns it was cut after, the share of rows in it) of the first loop cut short that some rows are
        still in, given the values of still_running on those rows (arrays, or constants); None where every row
        has left every loop. A nan counts as still running: nothing says the loop ended."""
        for turns, values in zip(self.cut_after, running):
            share = float(np.mean(np.asarray(values) != 0))
            if share > 0:
                return turns, share
        return None


class _Return(Exception):
    pass


class _State:
    def __init__(self):
        self.mem, self.weight = {}, 1.0


MAX_CHOSEN_CELLS = 4096  # the most elements a pointer an uncertain condition chose may see (`chosen_elements`)


class _Loop:
    """Flags of one loop (or switch): the truths under which paths have left it or skipped to its next turn."""

    def __init__(self, depth: int, done_at_entry, turn_sid: int, is_switch: bool = False):
        self.broken, self.continued = 0, 0
        self.depth, self.done_at_entry, self.is_switch = depth, done_at_entry, is_switch
        self.turn_sid = turn_sid  # the first storage of the current turn: later ones die with the turn


class _Frame:
    def __init__(self, scope: dict, is_int_return, depth: int, first_sid: int):
        self.first_sid = first_sid  # the frame's own storages (locals, parameters) are this one and later
        self.scopes = [scope]
        self.is_int_return = is_int_return
        self.ret = None  # the returned value so far (selected by the conditions of the returns)
        self.done = 0  # the truth that the function has returned
        self.loops: list[_Loop] = []
        self.blocks: list[list] = []  # the compound statements being run: [node, len(loops) in it, item running]
        self.jumps: dict = {}  # label -> (the truth that a goto skips to it, len(loops) where it was taken)
        self.depth = depth  # len(conds) when the frame started


class Tracer(Interpreter):
    """The interpreter of linearize.py with graph nodes for values (see the module docstring)."""

    def __init__(self, exts, graph: Graph, limits: Limits = NETWORK):
        self.g = graph
        self.element_bytes: dict[int, int] = {}  # storage id -> sizeof one of its cells (Interpreter.size_of)
        self.variable_length: dict = {}  # storage id of a variable-length array -> its length (Interpreter.size_of)
        self.memory = None  # the program's storage (_State), while run_target runs
        self.chosen: set = set()  # storage ids of the elements pointer choices point to (chosen_elements) ...
        self.chosen_from: set = set()  # ... and of the arrays they chose from: neither may be written after
        self.goto_loops: dict = {}  # id of a label -> its do-while loop (goto_loop), or None
        self.limits = limits
        self.max_steps = limits.steps
        self.still_running: list = []
        self.cut_after: list = []
        self.probe_env: dict | None = None  # input node -> its probe values (Limits.probe), made when first asked
        self.probe_known: dict = {}  # node -> its values on the probe inputs, of the last turns the probe evaluated
        self.expression_types: dict = {}  # id of a C expression -> its integer type (integer_type)
        self.floating_types: dict = {}  # id of a C expression -> 'float', 'double' or 'int' (floating_type)
        self.n = 0  # (the statistics' vector length: unused here)
        self.steps = 0
        self.next_sid = 0
        self.read_program(exts)
        self.conds: list = []  # (truth, first storage made under it) of the branches being run (helpers too)
        self.frames: list[_Frame] = []  # the active functions, the target first
        self.overflows: list = []  # (node, signed type, C expression) whose bounds leave the type's range
        self.cancellations: list = []  # (node, operands, C expression): a double sum far smaller than its terms

    def probe_has_left(self, running, turns: int, turn_start: int, reached=None) -> bool:
        """At turns PROBE_FROM * 2^k (with Limits.probe), or, for a loop reached under the truth `reached`, at
        every turn: is `running`, the truth that a path is still in the loop, 0 on every probe input? (The caller
        verifies the cut on fresh inputs: Trace.still_running.) Where fewer than MIN_REACHED probe inputs reach
        the loop, what they show of it is too little to cut it by. turn_start: the number of nodes the graph had
        PROBE_TURNS turns ago; the values of the nodes made since then that this probe computes are kept (up to
        PROBE_KEEP nodes), so the next probe evaluates the turns since this one, not the whole loop again."""
        every_turn = reached is not None
        if not every_turn and (not self.limits.probe or turns < PROBE_FROM or turns & (turns - 1)):
            return False
        if self.probe_env is None:
            inputs = self.g.inputs
            lo, hi = (np.array([getattr(n, end) for n in inputs]) for end in ("lo", "hi"))
            size = self.limits.probe or REACHED_PROBE
            x = spread_inputs(lo, hi, np.array([n.is_int for n in inputs], dtype=bool), size, size // 4)
            self.probe_env = {n: x[:, i] for i, n in enumerate(inputs)}
        env = {**self.probe_env, **self.probe_known}
        # the last turns' nodes that `running` needs, and those computed from them alone (the state the next
        # turns read: y = select(c, y_next, y_before)); not the rest (x, which `running` never needs)
        have = {n.id for n in plan([running], env)[0]} | {n.id for n in env}
        recent = []
        for n in self.g.nodes[max(turn_start, len(self.g.nodes) - PROBE_KEEP):]:
            if n.op != "input" and (n.id in have or all(a.id in have for a in n.args)):
                have.add(n.id)
                recent.append(n)
        with np.errstate(all="ignore"):
            values = evaluate([running, *recent, *([reached] if is_node(reached) else [])], env, keep_all=False)
        self.probe_known = {n: values[n] for n in recent}
        if is_node(reached) and np.count_nonzero(np.asarray(values[reached]) != 0) < MIN_REACHED:
            return False
        return not np.any(np.asarray(values[running]) != 0)

    # -- the predicate --------------------------------------------------------------------------------------------

    def active(self, sid: int | None = None, since: int = 0, loop: _Loop | None = None):
        """The truth that the statement being run runs, for a store into storage `sid` (None: for all of them):
        every condition since `since` made before sid, and, where sid outlives them, not returned, broken or
        continued: the flags of every active function (since == 0) or of the current one (since > 0: the
        relative predicate of a return or break), of `loop` and the loops inside it only, where one is given."""
        g, a = self.g, 1
        for c, first in self.conds[since:]:
            if sid is None or sid < first:
                a = g.both(a, c)
        frames = self.frames[-1:] if since > 0 or loop is not None else self.frames
        for frame in frames:
            loops = frame.loops[frame.loops.index(loop):] if loop is not None else frame.loops
            for lp in loops:
                if sid is None or sid < lp.turn_sid:
                    a = g.both(a, g.negate(g.either(lp.broken, lp.continued)))
            if (loop is None or frame.done is not loop.done_at_entry) and (sid is None or sid < frame.first_sid):
                a = g.both(a, g.negate(frame.done))
            for jump, depth in frame.jumps.values():  # (paths skipping to a label run nothing before it)
                if loop is None or depth > frame.loops.index(loop):
                    a = g.both(a, g.negate(jump))
        return a

    def check_size(self):
        if len(self.g.nodes) > self.limits.nodes:
            raise Unsupported(f"a computation graph of more than {self.limits.nodes} operations")
        deepest = self.g.nodes[-1].depth if self.g.nodes else 0
        if self.limits.depth is not None and deepest > self.limits.depth:
            raise Unsupported(f"a network of more than {self.limits.depth} layers (the most is {MAX_DEPTH})")

    # -- values ---------------------------------------------------------------------------------------------------

    def convert(self, v, int_type):
        if isinstance(v, (Ptr, Function)) or v is None:
            return v
        if isinstance(v, Aggregate) or isinstance(int_type, Layout):
            return copied(v, int_type, self.convert)
        g = self.g
        if int_type == "_Bool":  # a test against 0, not a truncation: (_Bool)0.3 is 1, (_Bool)2 is 1
            return self.truth(v)
        if int_type:
            if is_node(v):
                if not v.is_int:
                    v = g.fn("trunc", v)
                # (C's conversion to a narrow or an unsigned type is modular, `unsigned d = a - b` with a < b is
                # 2^32 - (b - a), and gcc's of an unsigned value to a signed type too: `int d = u - b` of unsigned
                # u < b is negative. Where the value stays in the type's range, Graph.fn leaves it as it is; a
                # value of signed arithmetic, whose overflow is undefined, is not wrapped: its loose bounds would
                # put wraps where no value wraps)
                if isinstance(int_type, str) and is_node(v) and (
                        int_type in NARROW_TYPES or int_type.startswith("unsigned") or _unsigned_range(v, int_type)):
                    v = g.fn("wrap", v, INTEGER_LIMITS[int_type])
                return v
            if isinstance(v, float) and not math.isfinite(v):
                raise Unsupported("a non-finite value converted to an integer")
            limits = INTEGER_LIMITS.get(int_type) if isinstance(int_type, str) else None
            return _wrap(int(v), *limits) if limits is not None else int(v)
        if int_type is FLOAT32:  # C's float: rounded to float32 (`for (t = 0; t < 1; t += 0.1f)` runs 10 turns)
            return g.fn("f32", v) if is_node(v) else float(np.float32(v))
        if is_node(v):
            return g.as_float(v)
        return float(v)

    def truth(self, v):
        if isinstance(v, Ptr):
            return 1
        return self.g.truth(v)

    def decided(self, cond) -> bool:
        return bool(cond)

    def compare(self, op, a, b):
        if isinstance(a, Ptr) and isinstance(b, Ptr):
            return pointer_order(op, a, b)
        return self.g.compare(op, check_value(a), check_value(b))

    def arith(self, op, a, b):
        g = self.g
        if isinstance(a, Ptr) and op in ("+", "-") and isinstance(b, int):
            return self.shifted(a, b if op == "+" else -b)
        if isinstance(a, Ptr) and op == "+" and is_node(b):
            return self.computed_position(a, b, None)
        if isinstance(a, Ptr) and isinstance(b, Ptr) and op == "-":
            return pointer_difference(a, b)
        a, b = check_value(a), check_value(b)
        ints = _is_int(a) and _is_int(b)
        if op in ("+", "-"):
            return g.add(a, b, 1.0 if op == "+" else -1.0, is_int=ints)
        if op == "*":
            return g.mul(a, b, is_int=ints)
        if op == "/":
            if is_const(a) and is_const(b):
                if ints:
                    return c_div(a, b)
                if b == 0:
                    raise Unsupported("division by a constant zero")
                return a / b
            if is_const(b) and b == 0:
                raise Unsupported("division by a constant zero")
            if ints and is_const(b):
                return g.fn("idivc", a, float(b), is_int=True)
            q = g.div(a, b)
            return g.fn("trunc", q) if ints else q
        if op == "%":
            if not ints:
                raise Unsupported("% on floating values")
            if is_const(a) and is_const(b):
                return c_mod(a, b)
            if is_const(b):
                if b == 0:
                    raise Unsupported("% by zero")
                return g.fn("fmodc", a, float(b), is_int=True)
            return g.add(a, g.mul(b, g.fn("trunc", g.div(a, b))), -1.0, is_int=True)
        if op in ("<<", ">>") and ints and not (is_const(a) and is_const(b)):
            # shifts of integers: a << b = a 2^b; a >> k = floor(a / 2^k) (gcc shifts signed values arithmetically)
            if op == "<<":
                return g.mul(a, g.fn("cpow", b, 2.0, is_int=True) if is_node(b) else 2 ** b, is_int=True)
            if is_const(b):
                return g.fn("floor", g.scale(a, 2.0 ** -b), is_int=True)
            # a shift by an uncertain count: a 2^-b is exact in doubles, as a scaling by a power of 2 is
            return g.fn("floor", g.mul(a, g.fn("cpow", g.scale(b, -1.0), 2.0)), is_int=True)
        if op == "&" and ints and is_const(a) != is_const(b):
            x, mask = (b, a) if is_const(a) else (a, b)
            if mask > 0 and mask & (mask + 1) == 0:  # the k low bits, mask = 2^k - 1: x mod 2^k (two's complement)
                p = float(mask + 1)
                return g.add(x, g.scale(g.fn("floor", g.scale(x, 1.0 / p)), p, is_int=True), -1.0, is_int=True)
        if op in ("&", "|", "^") and ints and not (is_const(a) and is_const(b)):
            for x, y in ((a, b), (b, a)):  # fields that share no bit (packing: r << 16 | g << 8 | b)
                if _below_bit(y, _alignment(x)):
                    return 0 if op == "&" else g.add(x, y, is_int=True)
        if op in ("<<", ">>", "&", "|", "^"):
            if not (is_const(a) and is_const(b) and ints):
                raise Unsupported(f"the bit operation {op} on uncertain values")
            return {"<<": lambda: a << b, ">>": lambda: a >> b, "&": lambda: a & b, "|": lambda: a | b,
                    "^": lambda: a ^ b}[op]()
        raise Unsupported(f"the operator {op}")

    def binary(self, node, state, frame):
        op = node.op
        if op in ("&&", "||"):
            a = self.truth(self.eval(node.left, state, frame))
            if is_const(a) and bool(a) == (op == "||"):
                return a  # short circuit
            self.conds.append((a if op == "&&" else self.g.negate(a), self.next_sid))  # (the right's side effects)
            try:
                b = self.truth(self.eval(node.right, state, frame))
            finally:
                self.conds.pop()
            return self.g.both(a, b) if op == "&&" else self.g.either(a, b)
        a = self.eval(node.left, state, frame)
        b = self.eval(node.right, state, frame)
        if op in ("<", ">", "<=", ">=", "==", "!="):
            if _is_int(a) and _is_int(b):  # compared in their common type: -1 < 1u is false (-1 is 2^32 - 1)
                a, b = self.in_unsigned(
                    _common_type(self.integer_type(node.left, frame), self.integer_type(node.right, frame)), a, b)
            return self.compare(op, a, b)
        return self.typed_arith(op, a, b, node.left, node.right, frame, node)

    def typed_arith(self, op, a, b, left, right, frame, node=None):
        """a op b, the values of the C expressions left and right, in the type C's usual arithmetic conversions
        give them. node: the expression itself, whose types are worked out once (None: a compound assignment's
        `left op= right`, which Interpreter.eval passes here)."""
        def integer_type():
            if node is not None:
                return self.integer_type(node, frame)
            if op in ("<<", ">>"):
                return _promoted(self.integer_type(left, frame))
            return _common_type(self.integer_type(left, frame), self.integer_type(right, frame))

        if op in ("/", "%") and _is_int(a) and _is_int(b):
            # a quotient or remainder is taken in the common type: -7 / 3u divides 2^32 - 7 (a sum, difference or
            # product needs only its result wrapped, as wrapping commutes with them; these do not)
            a, b = self.in_unsigned(integer_type(), a, b)
        value = self.arith(op, a, b)
        if isinstance(value, float) or is_node(value) and not value.is_int:
            # arithmetic in float (both operands float, or a float and an integer) is rounded to float32
            kind = self.floating_type(node, frame) if node is not None else \
                _arithmetic_kind(self.floating_type(left, frame), self.floating_type(right, frame))
            if kind != "float" and op in ("+", "-") and is_node(value) and _cancels(a, b, value) and \
                    len(self.cancellations) < MAX_NOTED_PLACES:
                self.cancellations.append((value, [v for v in (a, b) if is_node(v) or is_const(v)],
                                           node if node is not None else left))
            return self.convert(value, FLOAT32) if kind == "float" else value
        integral = is_node(value) and value.is_int or isinstance(value, int) and not isinstance(value, bool)
        ctype = integer_type() if integral else None
        if ctype is not None and ctype.startswith("unsigned"):
            # arithmetic in an unsigned type is modular (`a - b` of unsigned a < b is 2^32 - (b - a)); the graph
            # computes it in the integers, so it is wrapped where its bounds leave the type (Graph.fn: else as is;
            # a constant, as C folds it: 3u - 4u is 4294967295)
            value = self.g.fn("wrap", value, INTEGER_LIMITS[ctype]) if is_node(value) else \
                _wrap(value, *INTEGER_LIMITS[ctype])
        elif ctype in INTEGER_LIMITS and is_node(value) and len(self.overflows) < MAX_NOTED_PLACES and (
                value.lo < INTEGER_LIMITS[ctype][0] or value.hi > INTEGER_LIMITS[ctype][1]):
            self.overflows.append((value, ctype, node if node is not None else left))  # (checked at the end)
        return value

    def noted_warnings(self) -> list[str]:
        """The signed arithmetic whose bounds leave its type that does overflow on inputs spread over the box
        (bounds may be loose: only values say so), and the double sums whose terms' rounding C's doubles keep and
        the graph's exact algebra does not (`(1e15 + x) - 1e15` is x rounded to 0.125 in C): one message a
        place."""
        if not self.overflows and not self.cancellations:
            return []
        inputs = self.g.inputs
        lo, hi = (np.array([getattr(n, end) for n in inputs]) for end in ("lo", "hi"))
        x = spread_inputs(lo, hi, np.array([n.is_int for n in inputs], dtype=bool), 1024, 256)
        targets = [node for node, _, _ in self.overflows] + [n for node, terms, _ in self.cancellations
                                                              for n in (node, *terms) if is_node(n)]
        with np.errstate(all="ignore"):
            values = evaluate(targets, {n: x[:, i] for i, n in enumerate(inputs)}, keep_all=False)
        messages = {}
        for node, terms, expr in self.cancellations:
            v = np.asarray(values[node], dtype=float)[:1024]
            largest = max(float(np.nanmax(np.abs(values[t] if is_node(t) else t))) for t in terms)
            rounding = largest * 2.0 ** -53  # (half an ulp of the largest term, which C's sum carries)
            spread = float(np.nanstd(v))
            where = place(expr, column=True)
            if where and spread > 0 and rounding > ROUNDING_NOTED * spread:
                messages.setdefault(where, f"a double sum of terms up to {largest:.3g} that cancel to a spread of "
                                           f"{spread:.3g}: C rounds the terms to {rounding:.2g}, "
                                           f"{rounding / spread:.2g} of that spread, where the surrogate computes "
                                           f"the exact sum (at {where})")
        for node, ctype, expr in self.overflows:
            v = np.asarray(values[node], dtype=float)
            t_lo, t_hi = INTEGER_LIMITS[ctype]
            outside = np.isfinite(v) & ((v < t_lo) | (v > t_hi))
            reached = v[outside]
            where = place(expr, column=True)
            if len(reached) and where:
                worst = float(reached[np.argmax(np.abs(reached))])
                messages.setdefault(where, f"{ctype} arithmetic overflows on {np.mean(outside[:1024]):.1%} of "
                                           f"the box (to {worst:.3g}, beyond {t_lo}..{t_hi}), undefined "
                                           f"behaviour in C; the surrogate computes the integers' value (at {where})")
        return list(messages.values())

    def in_unsigned(self, common: str | None, *values) -> tuple:
        """The values converted to `common`, the common type of their expressions, where it is unsigned (C's usual
        arithmetic conversions); as they are otherwise."""
        if common is None or not common.startswith("unsigned"):
            return values
        return tuple(self.convert(v, common) for v in values)

    def _declared_type(self, name: str, frame, kinds: tuple[str, ...]):
        """The type a scalar, or an array's or pointer's elements (`kinds`), were declared with: an integer type's
        name, FLOAT32 or False (double); None for another kind or an unknown name."""
        try:
            entry = self.lookup(name, frame)
        except Unsupported:
            return None
        return entry[2] if entry[0] in kinds else None

    def _element_type(self, address, frame):
        """The declared type (as `_declared_type`) of the element an address expression (`p`, `a`, `p + i`, `a[i]`
        of a 2-D array, `s.a` of an array member) points into: its array's or pointer's element type."""
        while isinstance(address, c_ast.ArrayRef):
            address = address.name
        if isinstance(address, c_ast.BinaryOp) and address.op in ("+", "-"):
            left = self._element_type(address.left, frame)
            return left if left is not None or address.op == "-" else self._element_type(address.right, frame)
        if isinstance(address, c_ast.ID):
            return self._declared_type(address.name, frame, ("array", "pointer"))
        if isinstance(address, c_ast.StructRef):
            return self._member_type(address, frame)
        return None

    def _member_type(self, node: c_ast.StructRef, frame):
        """The declared type (as `_declared_type`; a struct's Layout) of a member, or of an array member's elements;
        None where the struct is not known here."""
        base = node.name
        if node.type == "->":
            layout = self._element_type(base, frame)
        elif isinstance(base, c_ast.ID):
            layout = self._declared_type(base.name, frame, ("struct",))
        elif isinstance(base, c_ast.ArrayRef):
            layout = self._element_type(base.name, frame)
        elif isinstance(base, c_ast.UnaryOp) and base.op == "*":
            layout = self._element_type(base.expr, frame)
        elif isinstance(base, c_ast.StructRef):
            layout = self._member_type(base, frame)
        elif isinstance(base, c_ast.FuncCall) and isinstance(base.name, c_ast.ID) and base.name.name in self.functions:
            layout = self.result_slot(self.functions[base.name.name])
        else:
            layout = None
        if not isinstance(layout, Layout) or node.field.name not in layout.members:
            return None
        return layout.members[node.field.name].slot

    def integer_type(self, node, frame) -> str | None:
        """The integer type C gives the expression `node` (the usual arithmetic conversions of its operands' declared
        types: variables, elements of arrays and pointers, helpers' results), or None where it is floating or not
        known here.
        Worked out once an expression (a sum of 5,000 integer terms would otherwise be walked 5,000 times)."""
        key = id(node)
        if key not in self.expression_types:
            self.expression_types[key] = self._integer_type(node, frame)
        return self.expression_types[key]

    def floating_type(self, node, frame) -> str | None:
        """'float', 'double' or 'int': the arithmetic type C gives the expression `node`, from its operands'
        declared types (integers as 'int'); None where it is not known here. Once an expression, as integer_type."""
        key = id(node)
        if key not in self.floating_types:
            self.floating_types[key] = self._floating_type(node, frame)
        return self.floating_types[key]

    def _floating_type(self, node, frame) -> str | None:
        declared = None
        if isinstance(node, c_ast.ID):
            declared = self._declared_type(node.name, frame, ("scalar",))
        elif isinstance(node, c_ast.StructRef):
            declared = self._member_type(node, frame)
        elif isinstance(node, (c_ast.ArrayRef, c_ast.UnaryOp)) and getattr(node, "op", "*") == "*":
            declared = self._element_type(node.name if isinstance(node, c_ast.ArrayRef) else node.expr, frame)
        elif isinstance(node, c_ast.Constant):
            return {"float": "float", "double": "double", "long double": "double"}.get(node.type, "int")
        elif isinstance(node, c_ast.Cast) and isinstance(node.to_type.type, c_ast.TypeDecl):
            declared = self.types.element_slot(node.to_type)
        elif isinstance(node, c_ast.FuncCall) and isinstance(node.name, c_ast.ID):
            name = node.name.name
            if name in self.functions:
                declared = self.result_slot(self.functions[name])
            else:  # math.h: sqrtf is a float, sqrt a double, abs an int
                name = library_name(name)
                return "int" if name in ("abs", "labs", "llabs") or _integer_rounding(name) else \
                    "float" if _returns_float(name) else "double"
        elif isinstance(node, c_ast.UnaryOp) and node.op in ("-", "+", "++", "--", "p++", "p--"):
            return self.floating_type(node.expr, frame)
        elif isinstance(node, c_ast.BinaryOp) and node.op in ("+", "-", "*", "/"):
            return _arithmetic_kind(self.floating_type(node.left, frame), self.floating_type(node.right, frame))
        elif isinstance(node, c_ast.BinaryOp) or isinstance(node, c_ast.UnaryOp) and node.op in ("sizeof", "!"):
            return "int"  # (comparisons, %, shifts, bit operations, sizeof)
        elif isinstance(node, c_ast.Assignment):
            return self.floating_type(node.lvalue, frame)
        elif isinstance(node, c_ast.TernaryOp):
            return _arithmetic_kind(self.floating_type(node.iftrue, frame), self.floating_type(node.iffalse, frame))
        else:
            return None
        return "float" if declared is FLOAT32 else "int" if isinstance(declared, str) else \
            "double" if declared is False else None

    def _integer_type(self, node, frame) -> str | None:
        if isinstance(node, c_ast.ID):
            return _as_integer_type(self._declared_type(node.name, frame, ("scalar",)))
        if isinstance(node, c_ast.StructRef):
            return _as_integer_type(self._member_type(node, frame))
        if isinstance(node, c_ast.ArrayRef):  # an element of an array or through a pointer: its element type
            return _as_integer_type(self._element_type(node.name, frame))
        if isinstance(node, c_ast.UnaryOp) and node.op == "*":
            return _as_integer_type(self._element_type(node.expr, frame))
        if isinstance(node, c_ast.FuncCall) and isinstance(node.name, c_ast.ID) and node.name.name in self.functions:
            return _as_integer_type(self.result_slot(self.functions[node.name.name]))
        if isinstance(node, c_ast.Constant):
            return slot_of(canonical_scalar(node.type.split())) or None
        if isinstance(node, c_ast.Cast) and isinstance(node.to_type.type, c_ast.TypeDecl):
            try:
                return slot_of(canonical_scalar(type_names(node.to_type.type))) or None
            except Unsupported:  # (a struct or the like: not an integer)
                return None
        if isinstance(node, c_ast.UnaryOp) and node.op in ("-", "+", "~"):
            return _promoted(self.integer_type(node.expr, frame))
        if isinstance(node, c_ast.BinaryOp) and node.op in ("+", "-", "*", "/", "%", "&", "|", "^"):
            return _common_type(self.integer_type(node.left, frame), self.integer_type(node.right, frame))
        if isinstance(node, c_ast.BinaryOp) and node.op in ("<<", ">>"):
            return _promoted(self.integer_type(node.left, frame))
        if isinstance(node, c_ast.UnaryOp) and node.op == "sizeof":
            return "unsigned long"  # (size_t)
        if isinstance(node, c_ast.TernaryOp):
            return _common_type(self.integer_type(node.iftrue, frame), self.integer_type(node.iffalse, frame))
        return None

    def unary(self, node, state, frame):
        op = node.op
        if op in ("&", "*", "++", "--", "p++", "p--", "sizeof"):
            return super().unary(node, state, frame)
        v = self.eval(node.expr, state, frame)
        if op == "-":
            return -v if is_const(v) else self.g.scale(check_value(v), -1.0, is_int=v.is_int)
        if op == "+":
            return v
        if op == "!":
            return self.g.negate(self.truth(v))
        if op == "~" and isinstance(v, int):
            return ~v
        raise Unsupported(f"the unary operator {op}")

    def eval(self, node, state, frame):
        if isinstance(node, c_ast.TernaryOp):
            # its arms in their common type: `c ? u : -1` of an unsigned u is unsigned, the -1 2^32 - 1
            common = self.integer_type(node, frame)
            c = self.truth(self.eval(node.cond, state, frame))
            if is_const(c):
                v = self.eval(node.iftrue if c else node.iffalse, state, frame)
                return self.in_unsigned(common, v)[0] if _is_int(v) else v
            a = self._under(c, lambda: self.eval(node.iftrue, state, frame))
            b = self._under(self.g.negate(c), lambda: self.eval(node.iffalse, state, frame))
            if _is_int(a) != _is_int(b):
                a, b = self.convert(a, False), self.convert(b, False)
            elif _is_int(a):
                a, b = self.in_unsigned(common, a, b)
            return self.select(c, a, b)
        return super().eval(node, state, frame)

    def _under(self, cond, run):
        self.conds.append((cond, self.next_sid))
        try:
            return run()
        finally:
            self.conds.pop()

    def select(self, c, a, b):
        """c ? a : b of two values (structs: cell by cell; pointers: `chosen_elements`)."""
        if isinstance(a, (Ptr, Function)) or isinstance(b, (Ptr, Function)):
            if same_place(a, b):
                return a
            if isinstance(a, Ptr) and isinstance(b, Ptr):
                return self.chosen_elements(c, a, b)
            if isinstance(a, Function) and isinstance(b, Function):
                return FunctionChoice("", c, a, b)
            raise Unsupported("a pointer chosen by an uncertain condition")
        if isinstance(a, Aggregate):
            return Aggregate(tuple(self.g.select(c, x, y) for x, y in zip(a.cells, b.cells)), a.layout)
        return self.g.select(c, a, b)

    def chosen_elements(self, c, a: Ptr, b: Ptr) -> Ptr:
        """c ? a : b of two pointers (a coefficient table chosen by the input's range, `p = x < 1 ? lo : hi`): a
        pointer into a new array whose elements are c ? a[k] : b[k], as far as either array goes on either side
        (where one array ends, the other's: reading past an array's end is undefined in C where it is chosen).
        A copy stands for the pointer only while neither array changes: a write through it, or into either array
        afterwards, is a reason (`write`)."""
        if a.at is not None or b.at is not None or a.dims[1:] != b.dims[1:] or a.slot != b.slot \
                or bool(a.dims) != bool(b.dims):
            raise Unsupported("a pointer chosen by an uncertain condition")
        mem = self.memory.mem
        first, second = mem[a.sid], mem[b.sid]
        if a.offset > len(first) or b.offset > len(second):
            raise Unsupported("a pointer chosen by an uncertain condition, past an array's end")
        before = max(a.offset, b.offset)  # (p[-1] of p = &t[2])
        after = max(len(first) - a.offset, len(second) - b.offset)
        if a.dims:  # (a pointer to rows: as many rows as the longer array has, from the pointer on)
            after = min(after, max(a.dims[0], b.dims[0]) * a.stride())
        if before + after > MAX_CHOSEN_CELLS:
            raise Unsupported(f"a pointer chosen by an uncertain condition into arrays of more than "
                              f"{MAX_CHOSEN_CELLS} elements")
        cells = []
        for k in range(-before, after):
            i, j = a.offset + k, b.offset + k
            in_first, in_second = 0 <= i < len(first), 0 <= j < len(second)
            if not (in_first and in_second):
                cells.append(first[i] if in_first else second[j])
            else:  # (an element not yet written in either stays so)
                x, y = first[i], second[j]
                cells.append(None if x is None or y is None else self.select(c, x, y))
        sid = self.new_storage(self.memory, cells)
        self.chosen.add(sid)
        self.chosen_from.update((a.sid, b.sid))
        rows = after // a.stride() if a.dims else None
        return Ptr(sid, before, (rows, *a.dims[1:]) if a.dims else (), a.slot)

    def lookup_table(self, entries: list, idx, slot):
        """entries[idx] at a computed index (clipped to the table, as the statistics do): a table of constants
        is one `table` step function of the index; computed entries are selected by index."""
        g = self.g
        if all(is_const(e) for e in entries):
            return g.fn("table", idx, tuple(float(e) for e in entries), is_int=bool(slot))
        k = g.fn("table", idx, tuple(float(i) for i in range(len(entries))), is_int=True)
        value = entries[0]
        for i, e in enumerate(entries[1:], start=1):  # (a table of function pointers: a FunctionChoice)
            value = self.select(g.compare("==", k, i), e, value)
        return value

    def read_table2(self, table, i, j, state):
        rows, cols = table.dims
        if not is_node(i):
            return self.element(self.element(table, i, state), j, state)
        entries = self.entries(table, rows * cols, state)
        g = self.g
        row = g.fn("table", i, tuple(float(r) for r in range(rows)), is_int=True)
        col = g.fn("table", j, tuple(float(c) for c in range(cols)), is_int=True) if is_node(j) else \
            min(max(int(j), 0), cols - 1)
        return self.lookup_table(entries, g.affine([(row, float(cols)), (col, 1.0)], is_int=True), table.slot)

    def write(self, state, sid: int, off: int, values: list, where=1) -> None:
        """Store values in cells off, off + 1, ... of storage sid where the statement runs (`active`) and the truth
        `where` holds (a write at a computed index): elsewhere a cell keeps its value, cell = select(a, new, old)."""
        cells = state.mem[sid]
        if not (0 <= off and off + len(values) <= len(cells)):
            raise Unsupported(f"a write out of bounds: element {off} of an array of {len(cells)}")
        if sid in self.chosen:
            raise Unsupported("a write through a pointer an uncertain condition chose")
        if sid in self.chosen_from:
            raise Unsupported("a write into an array after an uncertain condition chose a pointer into it")
        a = self.g.both(self.active(sid), where)
        if is_const(a):
            if a:
                cells[off:off + len(values)] = values
            return
        for k, value in enumerate(values, start=off):
            old = cells[k]
            if isinstance(value, (Ptr, Function)) or isinstance(old, (Ptr, Function)) or old is None:
                if value is old:
                    continue
                if (isinstance(value, Ptr) and (old is None or isinstance(old, Ptr))
                        or isinstance(value, Function) and (old is None or isinstance(old, Function))):
                    # (an uninitialised pointer: where the condition fails, reading it is undefined in C)
                    cells[k] = value if old is None else self.select(a, value, old)
                    continue
                raise Unsupported("a pointer assigned under an uncertain condition")
            cells[k] = self.g.select(a, value, old)
        self.check_size()

    # -- calls --------------------------------------------------------------------------------------------------

    def call(self, node, state, frame):
        name = self.callee(node, state, frame)
        args = [self.eval(a, state, frame) for a in (node.args.exprs if node.args else [])]
        return self.call_named(name, args, state)

    def call_named(self, name, args: list, state):
        """The call of the function `name` (or of the Function or FunctionChoice a pointer holds) on args."""
        if isinstance(name, FunctionChoice):  # each function where it is chosen, their results selected
            c = name.cond
            a = self._under(c, lambda: self.call_named(name.first, args, state))
            b = self._under(self.g.negate(c), lambda: self.call_named(name.second, args, state))
            return None if a is None and b is None else self.select(c, a, b)
        if isinstance(name, Function):
            name = name.name
        if name in self.functions:
            return self.call_helper(self.functions[name], args, state)
        if name in INFINITY_BUILTINS and not args:
            return math.inf
        name = library_name(name)
        through_pointer = self.through_pointer(name, args, state)
        if through_pointer is not None:
            return self.convert(through_pointer, FLOAT32) if _returns_float(name) else through_pointer
        value = self.math_call(name, [check_value(a) for a in args])
        if value is None:
            raise Unsupported(f"{name} is undefined at a constant argument")
        if _returns_float(name):
            return self.convert(value, FLOAT32)
        return value

    def largest_length(self, length):
        if is_node(length) and length.is_int and math.isfinite(length.hi):
            return max(int(length.hi), 1)
        return None

    def math1(self, name: str, x):
        if name not in MATH_1:  # frexp's parts (graph.py's FUNCTIONS): the exponent is an int
            return self.g.fn(name, x)
        return _as_double(self.g, self.g.fn(name, x)) if is_node(x) else float(MATH_1[name](np.float64(x)))

    def math_call(self, name: str, args: list):
        g = self.g
        base = _math_base(name)
        if base == "fma" and len(args) == 3:  # a * b + c
            return self.arith("+", self.arith("*", args[0], args[1]), args[2])
        if name in ("abs", "labs", "llabs") and len(args) == 1:  # of an integer: a double argument is truncated
            a = args[0] if _is_int(args[0]) else g.fn("trunc", args[0])  # (abs(-2.7) is 2)
            return abs(a) if is_const(a) else g.fn("abs", a, is_int=True)
        if base in MATH_NAMES and len(args) == 1:  # a double, even floor's integer values: floor(x) / 2 halves
            return _as_double(g, g.fn(base, args[0]))
        if base == "signbit" and len(args) == 1:  # (of -0.0 too in C; the graph's 0 has no sign)
            return int(math.copysign(1.0, args[0]) < 0) if is_const(args[0]) else g.compare("<", args[0], 0.0)
        if _integer_rounding(name) and len(args) == 1:  # lround and the like: a long
            return g.fn(_integer_rounding(name), args[0])
        if base == "fabs" and len(args) == 1:
            return abs(float(args[0])) if is_const(args[0]) else g.fn("abs", args[0])
        if len(args) != 2:
            raise Unsupported(f"the function {name}")
        a, b = (float(v) if is_const(v) else v for v in args)
        if base in ("fmin", "fmax"):
            for inf, other in ((a, b), (b, a)):  # fmax(-INFINITY, v) is v, fmax(INFINITY, v) INFINITY
                if is_const(inf) and math.isinf(inf) and is_node(other):
                    return other if (inf < 0) == (base == "fmax") else inf
            if is_const(a) and is_const(b):
                return min(a, b) if base == "fmin" else max(a, b)
            relu = g.fn("relu", g.add(a, b, -1.0))  # fmax = b + relu(a - b), fmin = a - relu(a - b)
            return g.add(b, relu) if base == "fmax" else g.add(a, relu, -1.0)
        if base == "fdim":
            return g.fn("relu", g.add(a, b, -1.0))
        if base == "pow":
            if is_const(b):
                if b == 2.0:
                    return g.mul(a, a) if is_node(a) else a * a
                if b == 1.0:
                    return a
                if b == 0.5:
                    return g.fn("sqrt", a)
                return g.fn("powc", a, b)
            if is_const(a):
                return g.fn("cpow", b, a)
            return g.fn("exp", g.mul(b, g.fn("log", a)))
        if base == "hypot":
            return g.fn("sqrt", g.add(g.mul(a, a), g.mul(b, b)))
        if base == "atan2":
            if is_const(b):
                return g.fn("atan2y", a, b)
            if is_const(a):
                return g.fn("atan2x", b, a)
            # acos(x / hypot(x, y)), negated where y < 0: bounded everywhere, and it jumps only where atan2
            # itself does (the negative x axis)
            r = g.fn("sqrt", g.add(g.mul(a, a), g.mul(b, b)))
            angle = g.fn("acos", g.mul(b, g.fn("recip", r)))
            below = g.compare("<", a, 0.0)
            return g.add(angle, g.mul(below, angle), -2.0) if is_node(below) else (-angle if below else angle)
        if base == "ldexp":  # a 2^b, exact in doubles
            if is_const(a) and is_const(b):
                return float(MATH_2["ldexp"](np.float64(a), np.float64(b)))
            return g.mul(a, g.fn("cpow", b, 2.0) if is_node(b) else 2.0 ** int(b))
        if base == "remainder":  # a - b rint(a / b)
            return g.add(a, g.mul(b, g.fn("rint", g.div(a, b))), -1.0) if not (is_const(a) and is_const(b)) \
                else float(MATH_2["remainder"](np.float64(a), np.float64(b)))
        if base == "fmod":
            if is_const(b):
                return g.fn("fmodc", a, b) if b != 0 else None
            return g.add(a, g.mul(b, g.fn("trunc", g.div(a, b))), -1.0)
        if base == "copysign":
            sign = g.add(g.scale(g.fn("ge0", b), 2.0), -1.0) if is_node(b) else math.copysign(1.0, b)
            return g.mul(g.fn("abs", a) if is_node(a) else abs(a), sign)
        raise Unsupported(f"the function {name}")

    def call_helper(self, fn, args, caller):
        if len(self.frames) > MAX_CALL_DEPTH:
            raise Unsupported("recursion")
        first_sid = self.next_sid
        frame = _Frame(self.parameters(fn, args, caller), self.result_slot(fn), len(self.conds), first_sid)
        self.frames.append(frame)  # (the caller's conditions and flags still apply, by storage: `active`)
        try:
            return self.run_body(fn.body, caller, frame)
        finally:
            self.frames.pop()

    def run_body(self, body, state, frame):
        try:
            self.block(body, state, frame)
        except _Return:
            pass
        return frame.ret

    # -- statements -----------------------------------------------------------------------------------------------

    def block(self, node, state, frame):
        """Interpreter.block, with forward gotos: a goto every path still running takes is a signal ("goto",
        label) that skips items up to the label in the compound statement holding it; one taken under a condition
        is a flag in frame.jumps (`active`) that the label clears."""
        if not isinstance(node, c_ast.Compound):
            return self.statement(node, state, frame)
        items = node.block_items or []
        place = [node, len(frame.loops), 0]
        frame.scopes.append({})
        frame.blocks.append(place)
        try:
            while place[2] < len(items):
                loop = self.goto_loop(items, place[2])
                if loop is not None:  # label: ... if (c) goto label;  as do { ... } while (c);
                    self.loop(loop[0], state, frame)
                    place[2] = loop[1] + 1
                    continue
                signal = self.block(items[place[2]], state, frame)
                if isinstance(signal, tuple):
                    target = _label_index(items, signal[1])
                    if target is None:
                        return signal  # (the label is in an enclosing compound statement)
                    place[2] = target
                    continue
                if signal:
                    return signal
                place[2] += 1
        finally:
            frame.blocks.pop()
            frame.scopes.pop()
        return None

    def goto_loop(self, items: list, k: int):
        """(a do-while loop, the index of its last item) where items[k] is a label and a later item of the same
        compound statement is `if (c) goto label;`, the only goto to it, with no break or continue between them
        (they would leave the loop made here, not the one around it); else None. The loop is made once."""
        label = items[k]
        if not isinstance(label, c_ast.Label):
            return None
        if id(label) not in self.goto_loops:
            self.goto_loops[id(label)] = None
            for i in range(k + 1, len(items)):
                item = items[i]
                if isinstance(item, c_ast.If) and item.iffalse is None and _is_goto(item.iftrue, label.name):
                    between = [label.stmt, *items[k + 1:i]]
                    if not any(_jumps_out(b, label.name) for b in between if b is not None):
                        body = c_ast.Compound([b for b in between if b is not None], label.coord)
                        self.goto_loops[id(label)] = (c_ast.DoWhile(item.cond, body, label.coord), i)
                    break
        return self.goto_loops[id(label)]

    def goto(self, node, frame):
        """A forward goto to a label of a compound statement it is in, with no loop or switch between them;
        others (backward: a loop; out of or into a loop) stay untranslated."""
        for compound, depth, running in reversed(frame.blocks):
            target = _label_index(compound.block_items or [], node.name)
            if target is not None:
                if target <= running or depth != len(frame.loops):
                    break
                a = self.active(since=frame.depth)
                if is_const(a):
                    return ("goto", node.name) if a else None
                before = frame.jumps.get(node.name, (0, depth))[0]
                frame.jumps[node.name] = (self.g.either(before, a), depth)
                return None
        raise Unsupported("a goto backward, or out of or into a loop or switch")

    def _statement(self, node, state, frame):
        if isinstance(node, c_ast.Goto):
            return self.goto(node, frame)
        if isinstance(node, c_ast.Label):
            frame.jumps.pop(node.name, None)  # (the paths that skipped here run again)
            return self.block(node.stmt, state, frame) if node.stmt is not None else None
        if isinstance(node, c_ast.Return):
            value = None
            if node.expr is not None:
                value = self.convert(self.eval(node.expr, state, frame), frame.is_int_return)
            a = self.active(since=frame.depth)
            if is_const(a):
                if a:
                    frame.ret, frame.done = value, 1
                    raise _Return()
                return None
            if value is not None:
                frame.ret = value if frame.ret is None else self.select(a, value, frame.ret)
            frame.done = self.g.either(frame.done, a)
            if is_const(frame.done) and frame.done:
                raise _Return()
            return None
        if isinstance(node, c_ast.If):
            c = self.truth(self.eval(node.cond, state, frame))
            if is_const(c):
                arm = node.iftrue if c else node.iffalse
                return self.block(arm, state, frame) if arm is not None else None
            signals = []
            for cond, arm in ((c, node.iftrue), (self.g.negate(c), node.iffalse)):
                if arm is not None:
                    signals.append(self._under(cond, lambda: self.block(arm, state, frame)))
            if any(signals):  # (a break/continue that holds under the arm's condition is a flag, not a signal)
                raise Unsupported("break or continue out of an uncertain branch")
            return None
        if isinstance(node, (c_ast.Break, c_ast.Continue)):
            loops = [lp for lp in frame.loops if isinstance(node, c_ast.Break) or not lp.is_switch]
            if not loops:
                raise Unsupported("break or continue outside a loop")
            loop = loops[-1]
            a = self.active(since=loop.depth, loop=loop)
            if is_const(a):
                return ("break" if isinstance(node, c_ast.Break) else "continue") if a else None
            if isinstance(node, c_ast.Break):
                loop.broken = self.g.either(loop.broken, a)
            else:
                loop.continued = self.g.either(loop.continued, a)
            return None
        if isinstance(node, (c_ast.For, c_ast.While, c_ast.DoWhile)):
            return self.loop(node, state, frame)
        if isinstance(node, c_ast.Switch):
            return self.switch(node, state, frame)
        return super()._statement(node, state, frame)

    def loop(self, node, state, frame):
        frame.scopes.append({})
        loop = _Loop(len(self.conds), frame.done, self.next_sid)
        frame.loops.append(loop)
        try:
            if isinstance(node, c_ast.For) and node.init is not None:
                if isinstance(node.init, c_ast.DeclList):
                    for d in node.init.decls:
                        self.declare(d, state, frame, frame.scopes[-1])
                else:
                    self.eval(node.init, state, frame)
            uncertain_turns = 0
            # the truth that the loop is reached at all: where it is not (an uncertain branch around it, a goto
            # past it), the loop's own truths keep the values they had and never say the path has left, so there
            # the probe asks whether every path that reached it has
            reached = self.active()
            first = isinstance(node, c_ast.DoWhile)
            turn_starts = [len(self.g.nodes)] * PROBE_TURNS  # the node counts at the last turns' beginnings
            while True:
                loop.turn_sid = self.next_sid
                turn_starts = [*turn_starts[1:], len(self.g.nodes)]
                if not first and node.cond is not None:
                    c = self.truth(self.eval(node.cond, state, frame))
                    if is_const(c):
                        if not c and is_const(self.active(since=loop.depth, loop=loop)):
                            break  # every path still in the loop leaves
                        if not c:
                            loop.broken = 1
                    else:
                        loop.broken = self.g.either(loop.broken, self.g.both(self.active(since=loop.depth, loop=loop),
                                                                             self.g.negate(c)))
                first = False
                if is_const(loop.broken) and loop.broken:
                    break
                running = self.active(since=loop.depth, loop=loop)
                if not is_const(running):
                    uncertain_turns += 1
                    if not is_const(reached):
                        still = self.g.both(reached, running)
                        if self.probe_has_left(still, uncertain_turns, turn_starts[0], reached=reached):
                            self.still_running.append(still)  # (verified on fresh inputs, as any cut)
                            self.cut_after.append(uncertain_turns - 1)
                            break
                    if (uncertain_turns > self.limits.iterations
                            or self.probe_has_left(running, uncertain_turns, turn_starts[0])):
                        self.still_running.append(running)
                        self.cut_after.append(uncertain_turns - 1)
                        break
                signal = self.block(node.stmt, state, frame)
                if signal == "break":
                    break
                loop.continued = 0
                if isinstance(node, c_ast.For) and node.next is not None:
                    self.eval(node.next, state, frame)
                if isinstance(node, c_ast.DoWhile):
                    c = self.truth(self.eval(node.cond, state, frame))
                    if is_const(c) and not c and is_const(self.active(since=loop.depth, loop=loop)):
                        break
                    loop.broken = self.g.either(loop.broken, self.g.both(self.active(since=loop.depth, loop=loop),
                                                                         self.g.negate(c)))
                    first = True
                self.check_size()
        finally:
            frame.scopes.pop()
            frame.loops.pop()
        return None

    def switch(self, node, state, frame):
        value = self.eval(node.cond, state, frame)
        items = node.stmt.block_items if isinstance(node.stmt, c_ast.Compound) else [node.stmt]
        items = items or []
        if is_const(value):
            frame.loops.append(_Loop(len(self.conds), frame.done, self.next_sid, is_switch=True))
            try:
                return super().switch(node, state, frame)
            finally:
                frame.loops.pop()
        g = self.g
        cases = [self.eval(item.expr, state, frame) for item in items if isinstance(item, c_ast.Case)]
        none_matches = 1
        for v in cases:
            none_matches = g.both(none_matches, g.negate(g.compare("==", value, v)))
        loop = _Loop(len(self.conds), frame.done, self.next_sid, is_switch=True)
        frame.loops.append(loop)  # a switch's break leaves it as a loop's does
        matched = 0
        try:
            for item in items:
                stmts = [item]
                if isinstance(item, c_ast.Case):
                    matched = g.either(matched, g.compare("==", value, self.eval(item.expr, state, frame)))
                    stmts = item.stmts or []
                elif isinstance(item, c_ast.Default):
                    matched = g.either(matched, none_matches)
                    stmts = item.stmts or []
                for s in stmts:
                    signal = self._under(matched, lambda: self.block(s, state, frame))
                    if signal == "break":
                        loop.broken = g.either(loop.broken, self._under(matched, lambda: self.active(loop.depth,
                                                                                                    loop)))
                    elif signal:
                        raise Unsupported("continue inside a switch on an uncertain value")
        finally:
            frame.loops.pop()
        return None

    # -- the target -----------------------------------------------------------------------------------------------

    def run_target(self, target, signature) -> Trace:
        state = self.memory = _State()
        for d in self.global_decls:
            self.declare(d, state, None, self.globals)
        for node in self.enums:
            value = -1
            for e in node.values.enumerators if node.values else []:
                value = self.eval(e.value, state, None) if e.value is not None else value + 1
                self.globals[e.name] = ("constant", value)
        lo, hi = signature.ranges()
        port_value = {}
        for i, port in enumerate(signature.inputs):
            port_value[(port.param, port.index)] = self.g.input(i, port.is_integer, lo[i], hi[i])
        params = _parameters(target)
        if len(params) != len(signature.params):
            raise Unsupported("the signature does not match the function")
        scope, storage_of = {}, {}
        for p_ast, p in zip(params, signature.params):
            int_type = slot_of(p.ctype)
            zero = 0 if int_type else 0.0
            if p.shape is None and not p.is_pointer:
                value = self.convert(port_value.get((p.name, None), zero), int_type)  # (a float input: rounded)
                scope[p_ast.name] = ("scalar", self.new_storage(state, [value]), int_type)
                continue
            size = p.shape or 1
            cells = [self.convert(port_value.get((p.name, k), port_value.get((p.name, None), zero) if k == 0
                                                 else zero), int_type) for k in range(size)]
            sid = self.new_storage(state, cells)
            storage_of[p.name] = sid
            self.element_bytes[sid] = SCALAR_SIZES[p.ctype]
            scope[p_ast.name] = ("pointer", self.new_storage(state, [Ptr(sid, 0, (size,), int_type)]), int_type)
        frame = _Frame(scope, slot_of(signature.return_ctype), 0, len(state.mem))
        self.frames = [frame]
        ret = self.run_body(target.body, state, frame)
        outputs = []
        for port in signature.outputs:
            v = ret if port.param == "return" else state.mem[storage_of[port.param]][port.index or 0]
            if v is None or isinstance(v, Ptr):
                raise Unsupported(f"output {port.name} has no numeric value")
            if is_const(v) and not math.isfinite(v):
                raise Unsupported(f"output {port.name} is not finite")
            outputs.append(v)
        return Trace(self.g, outputs, self.still_running, self.cut_after, self.noted_warnings())


def _is_int(v) -> bool:
    return v.is_int if is_node(v) else isinstance(v, int) and not isinstance(v, bool) or isinstance(v, bool)


def _cancels(a, b, value) -> bool:
    """Do the bounds say a double sum with a large constant term may be far smaller than its terms (its result's
    range below 2^-20 of the largest term: C's rounding of the terms may show in it)? (Only a constant of 2^20 or
    more is looked at: the bounds of every sum cost the tracer 5% of its time.)"""
    if not any(is_const(v) and abs(float(v)) >= 2.0 ** 20 for v in (a, b)):
        return False
    terms = [max(abs(v.lo), abs(v.hi)) if is_node(v) else abs(float(v)) for v in (a, b) if is_node(v) or is_const(v)]
    largest = max(terms, default=0.0)
    return math.isfinite(largest) and largest > 0 and (value.hi - value.lo) < largest * 2.0 ** -20


def _alignment(v) -> int:
    """How many low bits of an integer value are known to be 0 (a multiple of 2^k: x << k, a sum of such, a
    constant), whatever its sign (two's complement)."""
    if is_const(v):
        v = int(v)
        return 64 if v == 0 else (v & -v).bit_length() - 1
    if v.op == "affine" and all(a.is_int for a in v.args):
        coefs, bias = v.param
        if all(float(c).is_integer() for c in (*coefs, bias)):
            return min(_alignment(int(c)) for c in (*coefs, bias))
    if v.op == "fn" and v.fn == "wrap":  # (modular: the low bits stay)
        return _alignment(v.args[0])
    return 0


def _below_bit(v, k: int) -> bool:
    """Is the integer value v within [0, 2^k): only its k low bits can be set?"""
    lo, hi = (v, v) if is_const(v) else (v.lo, v.hi)
    return k > 0 and 0 <= lo and hi < 2.0 ** k


def _unsigned_range(v, signed: str) -> bool:
    """Does v lie in the range of the unsigned type as wide as `signed` (an unsigned value, as far as its bounds
    tell)?"""
    lo, hi = INTEGER_LIMITS[signed]
    return 0 <= v.lo and v.hi <= hi - lo


def _arithmetic_kind(a: str | None, b: str | None) -> str | None:
    """The kind ('double', 'float', 'int') of arithmetic on operands of kinds a and b (None: not known)."""
    kinds = {a, b}
    return None if None in kinds else "double" if "double" in kinds else "float" if "float" in kinds else "int"


def _as_integer_type(declared) -> str | None:
    return declared if isinstance(declared, str) else None


_ROUND_TO_INTEGER = {"lround": "round", "llround": "round", "lrint": "rint", "llrint": "rint"}


def _integer_rounding(name: str) -> str | None:
    """The rounding ('round', 'rint') of lround, llround, lrint, llrint and their float and long double variants
    (lroundf), which return an integer; None for any other name."""
    for base in (name, name[:-1] if name.endswith(("f", "l")) else None):
        if base in _ROUND_TO_INTEGER:
            return _ROUND_TO_INTEGER[base]
    return None


def _as_double(g: Graph, v):
    """A math.h function's result (None: not a finite number) as C's double: never an integer, whatever its values."""
    return None if v is None else g.as_float(v) if is_node(v) else float(v)


def _is_goto(stmt, name: str) -> bool:
    """Is stmt `goto name;` (or `{ goto name; }`)?"""
    if isinstance(stmt, c_ast.Compound) and len(stmt.block_items or []) == 1:
        stmt = stmt.block_items[0]
    return isinstance(stmt, c_ast.Goto) and stmt.name == name


def _jumps_out(node, name: str) -> bool:
    """Does a statement hold a goto to `name`, or a break or continue outside the loops and switches it holds?"""
    if isinstance(node, c_ast.Goto):
        return node.name == name
    if isinstance(node, (c_ast.Break, c_ast.Continue)):
        return True
    if isinstance(node, (c_ast.For, c_ast.While, c_ast.DoWhile, c_ast.Switch)):  # (their own break and continue)
        return any(isinstance(n, c_ast.Goto) and n.name == name for n in walk(node))
    return any(_jumps_out(child, name) for _, child in node.children())


def _label_index(items: list, name: str) -> int | None:
    """The index of the statement labelled `name` among a compound statement's items, or None."""
    return next((k for k, item in enumerate(items) if isinstance(item, c_ast.Label) and item.name == name), None)


def _returns_float(name: str) -> bool:
    """A math.h function's float variant (sqrtf: its result is a float)?"""
    return _math_base(name) != name and name.endswith("f")


def _math_base(name: str) -> str:
    for base in (name, name[:-1] if name.endswith(("f", "l")) else None):
        if base and (base in MATH_NAMES or base in ("fabs", "fmin", "fmax", "fdim", "pow", "hypot", "atan2",
                                                     "fmod", "copysign", "remainder", "fma", "modf", "frexp",
                                                     "ldexp", "signbit")):
            return base
    return name


def trace(exts, signature, limits: Limits = NETWORK) -> Trace | Unsupported:
    """The target's computation graph (canonical AST, target last), or the reason there is none."""
    functions = [e for e in exts if isinstance(e, c_ast.FuncDef)]
    if not functions:
        return Unsupported("no function")
    target = next((f for f in functions if f.decl.name == TARGET_NAME), functions[-1])
    tracer = Tracer(exts, Graph(), limits)
    try:
        with np.errstate(all="ignore"):
            return tracer.run_target(target, signature)
    except Unsupported as e:
        return e
    except OverflowError:
        return Unsupported("an overflow")
    except (ZeroDivisionError, ValueError, IndexError, KeyError) as e:  # (a RecursionError is no reason: it is
        return Unsupported(f"{type(e).__name__}: {e}")                   # nsc's limit, recursion.py reports it)


__all__ = ["Trace", "Tracer", "trace", "Limits", "NETWORK", "EVALUATION", "MAX_ITERATIONS", "located",
           "math_function"]
