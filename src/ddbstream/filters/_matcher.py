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
_names = itertools.count()


class _Node:
    """A path of a pattern object (absolute ``path``), with the field ending there, the
    deeper paths (``children``) and the ``$or`` groups written at it (one trie per branch)."""

    __slots__ = (
        "absent_ok", "below_ok", "children", "count", "field", "fields", "grouped", "groups",
        "height", "path", "size",
    )  # fmt: skip

    def __init__(self, path: tuple[str, ...]) -> None:
        self.path = path
        self.children: dict[str, _Node] = {}
        self.field: FieldCheck | None = None
        self.groups: list[tuple[_Node, ...]] = []
        self.absent_ok = self.below_ok = True  # hold with nothing at (below) this path
        self.fields: list[FieldCheck] = []  # in this trie, at or below this path
        self.count = 0  # len(fields)
        self.grouped = False  # an $or at or below this path
        self.height = 1
        self.size = 0  # nodes below this one

    def descend(self, segs: Sequence[str]) -> _Node:
        node = self
        for seg in segs:
            child = node.children.get(seg)
            if child is None:
                child = node.children[seg] = _Node((*node.path, seg))
            node = child
        return node

    def walk(self) -> list[_Node]:
        """This node and the nodes below it in this trie, parents first."""
        out, todo = [], [self]
        while todo:
            node = todo.pop()
            out.append(node)
            todo.extend(node.children.values())
        return out


def _trie(rule: Rule, base: tuple[str, ...], general: SubRules) -> Walk[_Node]:
    root = _Node(base)
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
            "DOTTED": has_dotted, "STREAM_RECORD": STREAM_RECORD,
            "MAPPING": lambda_mapping, "GENERAL": general.matches,
        }  # fmt: skip
        self.todo: list[tuple[str, _Node]] = []
        self.groups: list[tuple[str, tuple[str, ...]]] = []  # name -> its branch functions

    def const(self, value: Any, prefix: str = "K") -> str:
        name = f"{prefix}{len(self.ns)}"
        self.ns[name] = value
        return name

    def function(self, node: _Node) -> str:
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

    def node(self, node: _Node, var: str, pad: str, depth: int, fail: str, bail: str) -> None:
        for seg, child in sorted(node.children.items(), key=lambda item: item[1].height):
            self.child(child, seg, var, pad, depth, fail, bail)
        for group in node.groups:
            self.call(f"ANY({self.group(group)}, {var})", pad, fail, bail)

    def group(self, branches: Sequence[_Node]) -> str:
        """The name of the tuple of (later written) functions checking ``branches``."""
        name = self.const(None, "G")
        self.groups.append((name, tuple(self.function(branch) for branch in branches)))
        return name

    def child(
        self, node: _Node, seg: str, var: str, pad: str, depth: int, fail: str, bail: str
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
        """True when the string ``value`` fails the field's inline string tests."""
        parts = []
        for values, template in (
            (field.strings, "{v} not in {k}"),
            (field.prefixes, "not {v}.startswith({k})"),
            (field.suffixes, "not {v}.endswith({k})"),
        ):
            if values:
                parts.append(template.format(v=value, k=self.const(values)))
        return " and ".join(parts)

    def failed(self, field: FieldCheck, value: str) -> str:
        """True when the scalar ``value`` (class in ``c``) fails the field's tests."""
        if field.inlinable:
            return f"c is not str or ({self.strings(field, value)})"
        return f"not {self.const(field.test, 'T')}({value})"

    def aliases(self, node: _Node, seg: str, var: str) -> str:
        """True when ``var`` has a dotted key standing for a path below ``node``."""
        if node.grouped or node.size > _ALIASES:
            return f"DOTTED({var}, {seg!r})"
        names = [".".join((seg, *below.path[len(node.path) :])) for below in node.walk()[1:]]
        return " or ".join(f"{name!r} in {var}" for name in names)

    def array(self, node: _Node, value: str, pad: str, fail: str, bail: str) -> None:
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


def _generate(rules: Sequence[Rule], general: SubRules) -> Callable[[Any], bool]:
    writer = _Writer(general, _reach(rules))
    roots = [run(_trie(rule, (), general)) for rule in rules]
    lines = writer.lines
    lines += [
        "def match(r):",
        "    if r.__class__ is not dict:",
        "        r = r.lambda_record if r.__class__ is STREAM_RECORD else MAPPING(r)",
        "        if r.__class__ is not dict: return GENERAL(r)",
    ]
    if len(roots) == 1:
        writer.node(roots[0], "r", "    ", 0, "return False", "return GENERAL(r)")
        lines.append("    return True")
    else:
        lines.append(f"    x = ANY({writer.group(roots)}, r)")
        lines.append("    return x if x is not BAIL else GENERAL(r)")
    writer.finish()
    for name, functions in writer.groups:
        lines.append(f"{name} = ({', '.join(functions)},)")
    return _compile("\n".join(lines) + "\n", writer.ns)


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
        if self._general.overrides:  # only event-ruler's sub-rules say which write remains
            self.matches = self.slow_matches
        else:
            self.matches = _generate(rules, self._general)

    def slow_matches(self, record: Any) -> bool:
        """The general matcher alone (what the generated code hands over to)."""
        return self._general.matches(lambda_mapping(record))

    def explain(self, record: Any) -> str | None:
        """None when the record matches, else why the first condition failed."""
        return self._general.explain(lambda_mapping(record))

    def admits(self, name: str, value: Any) -> bool:
        """Whether the patterns' conditions on the field ``name`` alone let ``value`` through."""
        return self._general.admits(name, value)
