"""Name resolution: which declaration each identifier in one top-level definition refers to.

C has block scopes, so a local may shadow a parameter or a global. `resolve(ext)` walks one top-level node
(a function definition or a file-scope declaration) with a stack of scopes and records, for every use of an
identifier, the local `Binding` it refers to, or that it is free (a file-scope name, looked up by the caller in
the file's index). Later passes (reachability, checks, pointer access analysis, canonical renaming) only read
this record, so scoping lives in one place.

Namespaces: ordinary identifiers (variables, functions, typedef names, enum constants) are scoped; struct/union/
enum tags are treated as file-scope names ("struct S"); labels have function scope; member names are not names
of anything here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pycparser import c_ast

# Type specifiers that are keywords, not typedef names.
BASE_TYPE_WORDS = frozenset({
    "void", "char", "short", "int", "long", "float", "double", "signed", "unsigned", "_Bool", "_Complex",
    "__int128", "__builtin_va_list",
})


@dataclass(eq=False)
class Binding:
    """One local declaration: a parameter, a local variable, a local typedef or enum constant, or a label."""

    name: str
    kind: str                 # 'param', 'local', 'typedef', 'enumerator', 'label'
    node: c_ast.Node          # the declaring node (Decl, Typedef, Enumerator, Label)


@dataclass(eq=False)
class Ref:
    """One use of a name: `binding` is the local declaration it refers to, or None for a file-scope name."""

    name: str                 # the identifier, or "struct S" / "union S" / "enum S" for tags
    node: c_ast.Node          # the ID, IdentifierType, Struct/Union/Enum or Goto node
    binding: Binding | None
    is_call: bool = False     # the callee of a function call


@dataclass
class Resolution:
    """Every name used and declared in one top-level node, in source order."""

    refs: list[Ref] = field(default_factory=list)
    bindings: list[Binding] = field(default_factory=list)          # local declarations, in order
    by_node: dict[int, Binding] = field(default_factory=dict)      # id(ID/Goto/IdentifierType node) -> binding
    by_decl: dict[int, Binding] = field(default_factory=dict)      # id(declaring node) -> binding

    def free(self) -> list[Ref]:
        """References to file-scope names, in order of occurrence."""
        return [r for r in self.refs if r.binding is None]


def resolve(ext: c_ast.Node) -> Resolution:
    """Resolve the names in one top-level node of a FileAST."""
    resolver = _Resolver()
    resolver.top(ext)
    return resolver.result


class _Resolver:
    def __init__(self):
        self.result = Resolution()
        self.scopes: list[dict[str, Binding]] = []
        self.visible: dict[str, list[Binding]] = {}  # name -> its bindings in the open scopes, innermost last
        self.labels: dict[str, Binding] = {}

    # -- scopes --------------------------------------------------------------------------------------------
    def enter(self) -> None:
        self.scopes.append({})

    def leave(self) -> None:
        for name in self.scopes.pop():
            self.visible[name].pop()

    def bind(self, name: str, kind: str, node: c_ast.Node) -> None:
        binding = Binding(name, kind, node)
        scope = self.scopes[-1]
        if name in scope:  # declared again in the same scope: the new binding replaces it
            self.visible[name][-1] = binding
        else:
            self.visible.setdefault(name, []).append(binding)
        scope[name] = binding
        self.result.bindings.append(binding)
        self.result.by_decl[id(node)] = binding

    def use(self, name: str, node: c_ast.Node, is_call: bool = False) -> None:
        # (a lookup per open scope cost 12 s on 5000 nested loops: `visible` holds the innermost binding)
        bindings = self.visible.get(name)
        binding = bindings[-1] if bindings else None
        if binding is not None:
            self.result.by_node[id(node)] = binding
        self.result.refs.append(Ref(name, node, binding, is_call))

    # -- top level -----------------------------------------------------------------------------------------
    def top(self, ext: c_ast.Node) -> None:
        if isinstance(ext, c_ast.FuncDef):
            self.function(ext)
        elif isinstance(ext, c_ast.Decl):
            self.type(ext.type)
            self.visit(ext.init)
            self.visit(ext.bitsize)
        elif isinstance(ext, c_ast.Typedef):
            self.type(ext.type)
        else:
            self.visit(ext)

    def function(self, fn: c_ast.FuncDef) -> None:
        ftype = fn.decl.type
        self.enter()
        if isinstance(ftype, c_ast.FuncDecl):
            self.type(ftype.type)
            params = ftype.args.params if ftype.args is not None else []
            for p in params:
                if isinstance(p, c_ast.Decl):
                    self.type(p.type)
                    if p.name:
                        self.bind(p.name, "param", p)
                elif isinstance(p, c_ast.ID):  # K&R identifier list: declared in param_decls
                    pass
            for p in fn.param_decls or []:
                self.type(p.type)
                if p.name:
                    self.bind(p.name, "param", p)
        for label in _labels(fn.body):
            binding = Binding(label.name, "label", label)
            self.labels[label.name] = binding
            self.result.bindings.append(binding)
            self.result.by_decl[id(label)] = binding
        self.visit(fn.body)
        self.leave()

    # -- types ---------------------------------------------------------------------------------------------
    def type(self, node) -> None:
        """Visit a type: typedef names and tags used, array sizes, enum constants declared."""
        if node is None:
            return
        if isinstance(node, (c_ast.TypeDecl, c_ast.PtrDecl)):
            self.type(node.type)
        elif isinstance(node, c_ast.ArrayDecl):
            self.type(node.type)
            self.visit(node.dim)
        elif isinstance(node, c_ast.FuncDecl):
            self.enter()  # prototype scope: parameter names are not visible outside
            for p in node.args.params if node.args is not None else []:
                if isinstance(p, (c_ast.Decl, c_ast.Typename)):
                    self.type(p.type)
            self.leave()
            self.type(node.type)
        elif isinstance(node, c_ast.Typename):
            self.type(node.type)
        elif isinstance(node, c_ast.IdentifierType):
            for name in node.names:
                if name not in BASE_TYPE_WORDS:
                    self.use(name, node)
        elif isinstance(node, (c_ast.Struct, c_ast.Union)):
            kind = "struct" if isinstance(node, c_ast.Struct) else "union"
            if node.name:
                self.use(f"{kind} {node.name}", node)
            for member in node.decls or []:
                if isinstance(member, c_ast.Decl):
                    self.type(member.type)
                    self.visit(member.bitsize)
        elif isinstance(node, c_ast.Enum):
            if node.name:
                self.use(f"enum {node.name}", node)
            if node.values is not None:
                for e in node.values.enumerators:
                    self.visit(e.value)
                    if self.scopes:
                        self.bind(e.name, "enumerator", e)
        else:
            self.visit(node)

    # -- statements and expressions ----------------------------------------------------------------------
    def visit(self, node) -> None:
        if node is None:
            return
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is not None:
            method(node)
        else:
            for _, child in node.children():
                self.visit(child)

    def visit_Compound(self, node: c_ast.Compound) -> None:
        self.enter()
        for item in node.block_items or []:
            self.visit(item)
        self.leave()

    def visit_For(self, node: c_ast.For) -> None:
        self.enter()
        for part in (node.init, node.cond, node.next, node.stmt):
            self.visit(part)
        self.leave()

    def visit_Decl(self, node: c_ast.Decl) -> None:
        self.type(node.type)
        # A block-scope function prototype or `extern` declaration names a file-scope entity.
        local = node.name and not isinstance(node.type, c_ast.FuncDecl) and "extern" not in (node.storage or [])
        if local and self.scopes:
            self.bind(node.name, "local", node)
        self.visit(node.init)
        self.visit(node.bitsize)

    def visit_Typedef(self, node: c_ast.Typedef) -> None:
        self.type(node.type)
        if self.scopes:
            self.bind(node.name, "typedef", node)

    def visit_Typename(self, node: c_ast.Typename) -> None:
        self.type(node.type)

    def visit_ID(self, node: c_ast.ID) -> None:
        self.use(node.name, node)

    def visit_FuncCall(self, node: c_ast.FuncCall) -> None:
        if isinstance(node.name, c_ast.ID):
            self.use(node.name.name, node.name, is_call=True)
        else:
            self.visit(node.name)
        self.visit(node.args)

    def visit_StructRef(self, node: c_ast.StructRef) -> None:
        self.visit(node.name)  # the field is a member name

    def visit_NamedInitializer(self, node: c_ast.NamedInitializer) -> None:
        for designator in node.name:
            if not isinstance(designator, c_ast.ID):  # [index] designators are expressions
                self.visit(designator)
        self.visit(node.expr)

    def visit_Goto(self, node: c_ast.Goto) -> None:
        binding = self.labels.get(node.name)
        if binding is not None:
            self.result.by_node[id(node)] = binding

    def visit_Label(self, node: c_ast.Label) -> None:
        self.visit(node.stmt)


def _labels(node) -> list[c_ast.Label]:
    found = []
    stack = [node]
    while stack:
        n = stack.pop()
        if n is None:
            continue
        if isinstance(n, c_ast.Label):
            found.append(n)
        stack.extend(child for _, child in reversed(n.children()))
    return found
