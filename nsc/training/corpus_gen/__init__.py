"""Synthetic numeric C kernels for the compiler's training corpus.

`generate_program(seed)` builds one C function (plus the helpers, `#define`s, `static const` constants and tables
it uses) that looks like a real numeric kernel, with a `#pragma nsc range` line for every input. It is built as a
small typed tree (the IR in ir.py), never as strings, so that:
  * types stay consistent (C's usual arithmetic conversions are tracked on every node);
  * every node carries an estimated value interval, which lets the generator guard `log`/`sqrt`/division the way
    real code does, keep `exp` arguments sane, and steer output magnitudes, so most programs give finite,
    non-constant outputs;
  * rewrites.py can transform the same tree with semantics-preserving rewrites, and the corpus runner can emit many
    programs into one translation unit with uniquely renamed top-level symbols (`emit_unit(..., rename=...)`).

The distribution of constructs is NOTES.md section 6: locals, if/else chains, ternaries, switch on int inputs,
fixed-bound loops and accumulations, helper functions, constants and lookup tables with interpolation, math.h
calls, int/float/double mixes, array inputs, pointer/array/in-out outputs, clamping, polynomials, iterative
updates (Newton, bisection, fixed point, Euler steps) and piecewise functions. The examples/ kernels are not
templated here: the compiler is evaluated on them as unseen programs; coverage.py measures that they are in
distribution.

Modules, in import order:
  ir.py            the typed tree (expressions, statements, file-scope items), C types and value intervals;
  emit.py          the C printer (`emit_unit`, with renaming for batched translation units);
  analysis.py      facts read off a tree (`construct_counts`, `toplevel_names`, `signature_of`, pruning);
  vocab.py         name pools and input ranges;
  build_expr.py    the builder's state and expressions over the scope (`ExprBuilder`);
  build_blocks.py  statements and code blocks (`BlockBuilder`);
  build.py         whole programs (`ProgramBuilder`, `generate_program`).
"""

from nsc.training.corpus_gen.analysis import (construct_counts, prune_unused, referenced_names, signature_of,
                                              toplevel_names, walk_assign_targets)
from nsc.training.corpus_gen.build import GeneratedProgram, ProgramBuilder, generate_program
from nsc.training.corpus_gen.emit import Emitter, emit_unit, pragma_lines
from nsc.training.corpus_gen.ir import (CMP_OPS, FLOAT_CTYPES, MATH1, MATH2, AddrOf, Assign, Bin, Break, Call, Cast,
                                        Cond, Const, Decl, Define, Deref, Elem, Enum, Expr, ExprStmt, Function, If,
                                        Loop, Num, PDecl, Return, Stmt, Switch, Table, Unary, Unit, Var, arith_type,
                                        format_float, is_float_type, stmt_exprs)

__all__ = [
    # generation
    "generate_program", "GeneratedProgram", "ProgramBuilder",
    # emission and analysis
    "emit_unit", "Emitter", "pragma_lines", "signature_of", "toplevel_names", "construct_counts", "prune_unused",
    "referenced_names", "walk_assign_targets",
    # the IR
    "Unit", "Function", "PDecl", "Define", "Const", "Enum", "Table",
    "Stmt", "Decl", "ExprStmt", "Assign", "If", "Loop", "Switch", "Break", "Return", "stmt_exprs",
    "Expr", "Num", "Var", "Elem", "Deref", "Unary", "Bin", "Cond", "Call", "Cast", "AddrOf",
    "CMP_OPS", "FLOAT_CTYPES", "MATH1", "MATH2", "arith_type", "is_float_type", "format_float",
]
