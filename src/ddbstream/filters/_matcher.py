"""Matchers: patterns compiled to straight-line Python, with the general matcher behind them.

:class:`Matcher` is what a Filter, a FilterCriteria and an expression's ``matches`` run. Its
``matches`` is Python generated once per set of patterns from their AND/OR tree (not from the
sub-rules, so a pattern with 1000 ``$or`` combinations generates code the size of the pattern):
dict lookups along the pattern's paths and inline leaf tests. That straight-line code is exact
for records whose pattern paths hold objects and scalars. Where a record holds an array, a
dotted key or another kind of mapping, it hands over to the general matcher
(:class:`~ddbstream.filters._evaluate.SubRules`), on the subtree when no other field can reach
that array, on the whole record otherwise; and a pattern that writes a field twice in one
sub-rule (a later write replaces the earlier) runs on the general matcher alone.

The generated source is registered in :mod:`linecache` under a ``<ddbstream filter N>`` name,
as attrs does, so tracebacks and debuggers show it.
"""

from __future__ import annotations

import itertools
import linecache
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._evaluate import FieldCheck, SubRules, has_dotted, rule_matches
from ._json import Walk, run
from ._pattern import FieldMatch, Rule
from ._record import STREAM_RECORD, lambda_mapping

__all__ = ["Matcher"]

BAIL: Any = object()  # from generated code: "ask the general matcher"
_MISSING: Any = object()
_SCALARS = frozenset({str, int, float, bool, type(None)})
_SPLIT = 12  # nesting levels written into one function before a nested one takes over
_ALIASES = 6  # dotted aliases checked one by one; beyond, any key with the dotted prefix
_LITERALS = 4  # exact strings compared as a literal tuple; beyond, a frozenset
# DynamoDB nests attributes 32 levels deep, about 70 levels of a record's JSON: deeper patterns
# can only match through exists:false, and run on the general matcher
_DEEPEST = 80
_names = itertools.count()


class _TrieNode:
    """A path of a pattern object (absolute ``path``), with the field ending there, the
    deeper paths (``children``) and the ``$or`` groups written at it (one trie per branch)."""

    __slots__ = (
        "absent_ok", "below_ok", "children", "count", "field", "fields", "grouped", "groups",
        "height", "path", "size",
    )  # fmt: skip

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path
        self.children: dict[str, _TrieNode] = {}
        self.field: FieldCheck | None = None
        self.groups: list[tuple[_TrieNode, ...]] = []
        self.absent_ok = self.below_ok = True  # hold with nothing at (below) this path
        self.fields: list[FieldCheck] = []  # in this trie, at or below this path
        self.count = 0  # len(fields)
        self.grouped = False  # an $or at or below this path
        self.height = 1
        self.size = 0  # nodes below this one

    def descend(self, segs: Sequence[str]) -> _TrieNode:
        node = self
        for seg in segs:
            child = node.children.get(seg)
            if child is None:
                child = node.children[seg] = _TrieNode((*node.path, seg))
            node = child
        return node

    def walk(self) -> list[_TrieNode]:
        """This node and the nodes below it in this trie, parents first."""
        out, todo = [], [self]
        while todo:
            node = todo.pop()
            out.append(node)
            todo.extend(node.children.values())
        return out


def _trie(rule: Rule, base: tuple[str, ...], general: SubRules) -> Walk[_TrieNode]:
    root = _TrieNode(base)
    for item in rule.items:
        if isinstance(item, FieldMatch):
            node = root.descend(item.name.split(".")[len(base) :])
            node.field = general.check(item.name, item.matches)
            continue
        prefix = tuple(item.prefix[:-1].split(".")) if item.prefix else ()
        branches = []
        for branch in item.branches:
            branches.append((yield _trie(branch, prefix, general)))
        root.descend(prefix[len(base) :]).groups.append(tuple(branches))
    for node in reversed(root.walk()):
        below = list(node.children.values())
        groups_ok = all(any(b.absent_ok for b in group) for group in node.groups)
        node.below_ok = groups_ok and all(child.absent_ok for child in below)
        node.absent_ok = node.below_ok and (node.field is None or node.field.absent)
        node.fields = [node.field] if node.field is not None else []
        for child in below:
            node.fields += child.fields
        node.count = len(node.fields)
        node.grouped = bool(node.groups) or any(child.grouped for child in below)
        node.height = 1 + max((child.height for child in below), default=0)
        node.size = sum(1 + child.size for child in below)
    return root


def _other(cls: type, value: Any) -> bool:
    """An array, or a mapping that is not a dict (the general matcher's business)."""
    return cls is list or cls is tuple or (cls not in _SCALARS and isinstance(value, Mapping))


def _any(branches: Sequence[Callable[[Any], Any]], value: Any) -> Any:
    """An ``$or``: True when a branch holds, BAIL when none does but one could not tell."""
    bailed = False
    for branch in branches:
        found = branch(value)
        if found is True:
            return True
        if found is not False:
            bailed = True
    return BAIL if bailed else False


class _Writer:
    """Writes the generated module: one function per ``$or`` branch and per deep subtree."""

    def __init__(self, general: SubRules, reach: dict[tuple[str, ...], int]) -> None:
        self.general = general
        self.reach = reach  # fields of all the patterns at or below each path
        self.lines: list[str] = []
        self.ns: dict[str, Any] = {
            "MISSING": _MISSING, "BAIL": BAIL, "ANY": _any, "OTHER": _other,
            "DOTTED": has_dotted, "STREAM_RECORD": STREAM_RECORD, "SCALARS": _SCALARS,
            "MAPPING": lambda_mapping, "GENERAL": general.matches,
        }  # fmt: skip
        self.todo: list[tuple[str, _TrieNode]] = []
        self.groups: list[tuple[str, tuple[str, ...]]] = []  # name -> its branch functions

    def const(self, value: Any, prefix: str = "K") -> str:
        name = f"{prefix}{len(self.ns)}"
        self.ns[name] = value
        return name

    def function(self, node: _TrieNode) -> str:
        """The name of a function, written later, checking ``node`` on the dict it is given."""
        name = f"f{len(self.ns)}"
        self.ns[name] = None
        self.todo.append((name, node))
        return name

    def finish(self) -> None:
        while self.todo:
            name, node = self.todo.pop()
            self.lines.append(f"def {name}(v):")
            self.node(node, "v", "    ", 0, "return False", "return BAIL")
            self.lines.append("    return True")

    def call(self, expression: str, pad: str, fail: str, bail: str) -> None:
        self.lines += [
            f"{pad}x = {expression}",
            f"{pad}if x is not True:",
            f"{pad}    if x is False: {fail}",
            f"{pad}    {bail}",
        ]

    def node(self, node: _TrieNode, var: str, pad: str, depth: int, fail: str, bail: str) -> None:
        for seg, child in sorted(node.children.items(), key=lambda item: item[1].height):
            self.child(child, seg, var, pad, depth, fail, bail)
        for group in node.groups:
            self.call(f"ANY({self.group(group)}, {var})", pad, fail, bail)

    def group(self, branches: Sequence[_TrieNode]) -> str:
        """The name of the tuple of (later written) functions checking ``branches``."""
        name = self.const(None, "G")
        self.groups.append((name, tuple(self.function(branch) for branch in branches)))
        return name

    def child(
        self, node: _TrieNode, seg: str, var: str, pad: str, depth: int, fail: str, bail: str
    ) -> None:
        value, field, below = f"v{depth}", node.field, bool(node.children or node.groups)
        other = f"OTHER(c, {value})"
        add = self.lines.append
        add(f"{pad}{value} = {var}.get({seg!r}, MISSING)")
        add(f"{pad}c = {value}.__class__")
        if field is not None and not below and field.inlinable and not field.absent:
            add(f"{pad}if c is str:")
            add(f"{pad}    if {self.strings(field, value)}: {fail}")
            add(f"{pad}elif c is dict or {value} is MISSING: {fail}")
            add(f"{pad}elif {other}:")
            self.array(node, value, pad + "    ", fail, bail)
            add(f"{pad}else: {fail}")
            return
        add(f"{pad}if c is dict:")
        if field is not None and not field.absent:
            add(f"{pad}    {fail}")  # an object is not a leaf
        elif not below:
            add(f"{pad}    pass")
        elif depth + 1 < _SPLIT:
            self.node(node, value, pad + "    ", depth + 1, fail, bail)
        else:
            self.call(f"{self.function(node)}({value})", pad + "    ", fail, bail)
        add(f"{pad}elif {value} is MISSING:")
        if below:
            add(f"{pad}    if {self.aliases(node, seg, var)}: {bail}")
        add(f"{pad}    {'pass' if node.absent_ok else fail}")
        add(f"{pad}elif {other}:")
        self.array(node, value, pad + "    ", fail, bail)
        add(f"{pad}else:")  # a scalar: the leaf here, and nothing below
        if field is not None:
            add(f"{pad}    if {self.failed(field, value)}: {fail}")
        add(f"{pad}    {'pass' if node.below_ok else fail}")

    def strings(self, field: FieldCheck, value: str) -> str:
        """True when the string ``value`` fails the field's inline string tests (a few values
        are written as literals: a comparison is cheaper than a set lookup)."""
        parts = []
        if len(field.strings) == 1:
            parts.append(f"{value} != {next(iter(field.strings))!r}")
        elif 1 < len(field.strings) <= _LITERALS:
            parts.append(f"{value} not in {tuple(sorted(field.strings))!r}")
        elif field.strings:
            parts.append(f"{value} not in {self.const(field.strings)}")
        for affixes, method in ((field.prefixes, "startswith"), (field.suffixes, "endswith")):
            if affixes:
                literal = repr(affixes[0] if len(affixes) == 1 else affixes)
                parts.append(f"not {value}.{method}({literal})")
        return " and ".join(parts)

    def failed(self, field: FieldCheck, value: str) -> str:
        """True when the scalar ``value`` (class in ``c``) fails the field's tests."""
        if field.inlinable:
            return f"c is not str or ({self.strings(field, value)})"
        return f"not {self.const(field.test, 'T')}({value})"

    def aliases(self, node: _TrieNode, seg: str, var: str) -> str:
        """True when ``var`` has a dotted key standing for a path below ``node``."""
        if node.grouped or node.size > _ALIASES:
            return f"DOTTED({var}, {seg!r})"
        names = [".".join((seg, *below.path[len(node.path) :])) for below in node.walk()[1:]]
        return " or ".join(f"{name!r} in {var}" for name in names)

    def array(self, node: _TrieNode, value: str, pad: str, fail: str, bail: str) -> None:
        """An array (or another mapping) at ``node``: the general matcher on the subtree when
        only its fields can reach the array, else on the whole record."""
        if node.grouped or self.reach.get(node.path, 0) != node.count:
            self.lines.append(f"{pad}{bail}")
            return
        subtree = self.const(_Subtree(node.fields, len(node.path)), "S")
        self.lines.append(f"{pad}if not {subtree}({value}): {fail}")


class _Subtree:
    """The general matcher on the value at a path: the fields below it, relative to it."""

    __slots__ = ("_fields", "_level", "_relative")

    def __init__(self, fields: Sequence[FieldCheck], level: int) -> None:
        self._fields, self._level = fields, level
        self._relative: list[FieldCheck] | None = None

    def __call__(self, value: Any) -> bool:
        if self._relative is None:
            relative = [field.relative(self._level) for field in self._fields]
            self._relative = sorted(relative, key=lambda field: field.name)
        return rule_matches(value, self._relative)


def _reach(rules: Sequence[Rule]) -> dict[tuple[str, ...], int]:
    """For each path, how many fields of the patterns lie at or below it."""
    reach: dict[tuple[str, ...], int] = {}

    def count(rule: Rule) -> Walk[None]:
        for item in rule.items:
            if isinstance(item, FieldMatch):
                segs = tuple(item.name.split("."))
                for n in range(1, len(segs) + 1):
                    reach[segs[:n]] = reach.get(segs[:n], 0) + 1
            else:
                for branch in item.branches:
                    yield count(branch)

    for rule in rules:
        run(count(rule))
    return reach


_PROLOGUE = [
    "    c = r.__class__",
    "    if c is STREAM_RECORD:",
    "        r = r.lambda_record",
    "        c = r.__class__",
    "    if c is not dict:",
    "        r = MAPPING(r)",
    "        if r.__class__ is not dict: return GENERAL(r)",
]


def _generate(rules: Sequence[Rule], general: SubRules) -> Callable[[Any], bool] | None:
    """The generated matcher, or None for a pattern deeper than any DynamoDB record (the
    general matcher serves those without paying for the code)."""
    roots = [run(_trie(rule, (), general)) for rule in rules]
    if max(root.height for root in roots) > _DEEPEST:
        return None
    writer = _Writer(general, _reach(rules))
    lines = writer.lines
    if len(roots) == 1 and _plain(roots[0]):
        # the common pattern (an AND of fields that must be present) gets a straight line of
        # dict subscripts for records that have them all; anything else goes to ``careful``
        lines += ["def match(r):", *_PROLOGUE, "    try:"]
        _straight(writer, roots[0])
        lines += ["    except KeyError:", "        return careful(r)", "    return True"]
        lines.append("def careful(r):")
        writer.node(roots[0], "r", "    ", 0, "return False", "return GENERAL(r)")
        lines.append("    return True")
    elif len(roots) == 1:
        lines += ["def match(r):", *_PROLOGUE]
        writer.node(roots[0], "r", "    ", 0, "return False", "return GENERAL(r)")
        lines.append("    return True")
    else:
        lines += ["def match(r):", *_PROLOGUE, f"    x = ANY({writer.group(roots)}, r)"]
        lines.append("    return x if x is not BAIL else GENERAL(r)")
    writer.finish()
    for name, functions in writer.groups:
        lines.append(f"{name} = ({', '.join(functions)},)")
    return _compile("\n".join(lines) + "\n", writer.ns)


def _plain(root: _TrieNode) -> bool:
    """An AND of fields that must all be present, none of them also above another one."""
    return not root.grouped and all(
        not node.absent_ok and (node.field is None or not node.children) for node in root.walk()[1:]
    )


def _straight(writer: _Writer, root: _TrieNode) -> None:
    """Subscripts along every path, ``careful`` as soon as a value is not the expected kind
    (a KeyError, from a missing key, also leads there)."""
    add = writer.lines.append
    todo = [(root, "r")]
    while todo:
        node, var = todo.pop()
        deeper = []
        for seg, child in sorted(node.children.items(), key=lambda item: item[1].height):
            value = f"v{len(writer.lines)}"
            add(f"        {value} = {var}[{seg!r}]")
            field = child.field
            if field is None:
                add(f"        if {value}.__class__ is not dict: return careful(r)")
                deeper.append((child, value))
            elif field.inlinable:
                add(f"        if {value}.__class__ is not str: return careful(r)")
                add(f"        if {writer.strings(field, value)}: return False")
            else:
                add(f"        if {value}.__class__ not in SCALARS: return careful(r)")
                add(f"        if not {writer.const(field.test, 'T')}({value}): return False")
        todo += reversed(deeper)  # the shallowest subtree next


def _compile(source: str, ns: dict[str, Any]) -> Callable[[Any], bool]:
    """Run ``source`` in ``ns`` and return its ``match``; the source goes into linecache for
    as long as the function lives."""
    filename = f"<ddbstream filter {next(_names)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), ns)
    match: Callable[[Any], bool] = ns["match"]
    weakref.finalize(match, linecache.cache.pop, filename, None)
    return match


class Matcher:
    """Compiled patterns, ORed (the filters of a criteria): :attr:`matches` and :meth:`explain`
    on a Lambda record (any mapping) or a StreamRecord."""

    __slots__ = ("_general", "matches")

    def __init__(self, rules: Sequence[Rule]) -> None:
        self._general = SubRules(rules)
        #: True when some pattern matches, with event-ruler's semantics: a plain function of
        #: the record, which raises UsageError for anything but a mapping or a StreamRecord.
        self.matches: Callable[[Any], bool]
        generated = None
        if not self._general.overrides:  # else only the sub-rules say which write remains
            generated = _generate(rules, self._general)
        self.matches = generated or self.slow_matches

    def slow_matches(self, record: Any) -> bool:
        """The general matcher alone (what the generated code hands over to)."""
        return self._general.matches(lambda_mapping(record))

    def explain(self, record: Any) -> str | None:
        """None when the record matches, else why the first condition failed."""
        return self._general.explain(lambda_mapping(record))

    def admits(self, name: str, value: Any) -> bool:
        """Whether the patterns' conditions on the field ``name`` alone let ``value`` through."""
        return self._general.admits(name, value)
