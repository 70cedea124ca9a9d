"""Local evaluation of Lambda filter patterns with event-ruler's semantics.

A pattern is compiled once (:func:`compile_rules`) into a :class:`Matcher`. Matching walks only
the record paths the pattern names, never the whole record. The fast path is straight-line
Python generated once per pattern: dict lookups and inline leaf tests. Where a record holds an
array (or a non-dict mapping) on a pattern path, the subtree below that key goes to the general
matcher, which enumerates the leaves with their array membership and enforces event-ruler's
array consistency (a match may not combine fields from different elements of one array).
"""

from __future__ import annotations

import copy
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ._pattern import Cond, SubRule, compact_json, parse_ip

__all__ = ["Matcher", "compile_rules"]

_MISSING: Any = object()
_SLOW: Any = object()
_NUMBER_TYPES = (int, float, Decimal)
_SCALARS = frozenset({str, int, float, bool, type(None)})
Membership = tuple[tuple[int, int], ...]
Test = Callable[[Any], bool]


# --------------------------------------------------------------------------- leaf tests


def _is_num(value: Any) -> bool:
    cls = value.__class__
    return cls is int or cls is float or (cls is not bool and isinstance(value, _NUMBER_TYPES))


def _fold_regex(text: str) -> str:
    """event-ruler's equals-ignore-case: per pattern character, its lower or upper case."""
    parts = []
    for char in text:
        forms = sorted({char.lower(), char.upper()}, key=lambda s: (-len(s), s))
        escaped = "|".join(map(re.escape, forms))
        parts.append(f"(?:{escaped})" if len(forms) > 1 else escaped)
    return "".join(parts)


def _ignore_case(texts: Sequence[str], where: str) -> Test:
    """Full (``where='full'``), prefix or suffix case-insensitive match of any of ``texts``."""
    if all(t.isascii() for t in texts):
        folded = tuple(t.lower() for t in texts)
        if where == "full":
            fset = frozenset(folded)
            return lambda v: v.__class__ is str and v.isascii() and v.lower() in fset

        def affix(v: Any) -> bool:
            if v.__class__ is not str:
                return False
            for t in folded:
                part = v[: len(t)] if where == "prefix" else v[len(v) - len(t) :]
                if len(part) == len(t) and part.isascii() and part.lower() == t:
                    return True
            return False

        return affix
    body = "|".join(f"(?:{_fold_regex(t)})" for t in texts)
    if where == "full":
        full = re.compile(f"(?:{body})", re.DOTALL).fullmatch
        return lambda v: v.__class__ is str and full(v) is not None
    if where == "prefix":
        start = re.compile(f"(?:{body})", re.DOTALL).match
        return lambda v: v.__class__ is str and start(v) is not None
    end = re.compile(f"(?:{body})\\Z", re.DOTALL).search
    return lambda v: v.__class__ is str and end(v) is not None


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _numeric(terms: tuple[tuple[str, Any], ...]) -> Test:
    checks = tuple((_COMPARE[op], bound) for op, bound in terms)
    return lambda v: _is_num(v) and all(compare(v, bound) for compare, bound in checks)


def _cidr(version: int, low: int, high: int) -> Test:
    def test(v: Any) -> bool:
        if v.__class__ is not str:
            return False
        address = parse_ip(v)
        return address is not None and address.version == version and low <= int(address) <= high

    return test


def _one(cond: Cond) -> Test:
    kind, operand = cond.kind, cond.operand
    if kind == "exact":
        return lambda v: v.__class__ is str and v == operand
    if kind == "number":
        return lambda v: _is_num(v) and v == operand
    if kind == "literal":
        return lambda v: v is operand
    if kind == "prefix":
        return lambda v: v.__class__ is str and v.startswith(operand)
    if kind == "suffix":
        return lambda v: v.__class__ is str and v.endswith(operand)
    if kind in ("eic", "prefix-ic", "suffix-ic"):
        return _ignore_case((operand,), {"eic": "full", "prefix-ic": "prefix"}.get(kind, "suffix"))
    if kind == "wildcard":
        full = operand.fullmatch
        return lambda v: v.__class__ is str and full(v) is not None
    if kind == "cidr":
        return _cidr(*operand)
    if kind == "numeric":
        return _numeric(operand)
    if kind == "exists":
        return lambda v: True
    if kind.startswith("ab-"):
        return _anything_but(kind, operand)
    raise AssertionError(kind)  # pragma: no cover - _pattern only produces the kinds above


def _anything_but(kind: str, values: tuple[Any, ...]) -> Test:
    excluded: Test
    if kind == "ab-exact":
        strings = frozenset(values)
        return lambda v: not (v.__class__ is str and v in strings)
    if kind == "ab-number":
        numbers = frozenset(values)
        return lambda v: not (_is_num(v) and v in numbers)
    if kind == "ab-prefix":
        return lambda v: not (v.__class__ is str and v.startswith(values))
    if kind == "ab-suffix":
        return lambda v: not (v.__class__ is str and v.endswith(values))
    if kind == "ab-eic":
        excluded = _ignore_case(values, "full")
    else:  # ab-wildcard
        excluded = lambda v: v.__class__ is str and any(r.fullmatch(v) for r in values)  # noqa: E731
    return lambda v: not excluded(v)


def _value_test(conds: Sequence[Cond]) -> Test:
    """OR of a leaf's conditions (``exists: false`` is structural, handled by the walker)."""
    strings = frozenset(c.operand for c in conds if c.kind == "exact")
    numbers = frozenset(c.operand for c in conds if c.kind == "number")
    literals = [c.operand for c in conds if c.kind == "literal"]
    skip = ("exact", "number", "literal", "absent")
    others = [_one(c) for c in conds if c.kind not in skip]
    if any(c.kind == "exists" for c in conds):
        return lambda v: True
    if strings and not (numbers or literals or others):
        return lambda v: v.__class__ is str and v in strings
    tests: list[Test] = list(others)
    if strings:
        tests.insert(0, lambda v: v.__class__ is str and v in strings)
    if numbers:
        tests.append(lambda v: _is_num(v) and v in numbers)
    if literals:
        tests.append(lambda v: any(v is lit for lit in literals))
    if not tests:
        return lambda v: False
    if len(tests) == 1:
        return tests[0]
    return lambda v: any(t(v) for t in tests)


# --------------------------------------------------------------------------- general matcher


class _Field:
    __slots__ = (
        "absent", "conds", "inlinable", "name", "prefixes", "segs", "strings", "suffixes", "test",
    )  # fmt: skip

    def __init__(self, name: str, conds: tuple[Cond, ...]) -> None:
        self.name = name
        self.segs = tuple(name.split("."))
        self.conds = conds
        self.test = _value_test(conds)
        self.absent = any(c.kind == "absent" for c in conds)
        self.strings = frozenset(c.operand for c in conds if c.kind == "exact")
        self.prefixes = tuple(c.operand for c in conds if c.kind == "prefix")
        self.suffixes = tuple(c.operand for c in conds if c.kind == "suffix")
        self.inlinable = all(c.kind in ("exact", "prefix", "suffix") for c in conds)

    def failed(self, var: str, ns: dict[str, Any]) -> str:
        """A Python expression, true when the leaf value in ``var`` (class in ``c``) fails."""
        if not self.inlinable:
            ns[f"T{len(ns)}"] = self.test
            return f"not T{len(ns) - 1}({var})"
        parts = []
        for values, template in (
            (self.strings, "{var} not in {key}"),
            (self.prefixes, "not {var}.startswith({key})"),
            (self.suffixes, "not {var}.endswith({key})"),
        ):
            if values:
                key = f"K{len(ns)}"
                ns[key] = values
                parts.append(template.format(var=var, key=key))
        return f"c is not str or ({' and '.join(parts)})"

    def leaves(self, record: Any) -> list[tuple[Any, Membership]]:
        out: list[tuple[Any, Membership]] = []
        _collect(record, self.segs, 0, (), out)
        return out


def _collect(node: Any, segs: tuple[str, ...], i: int, mem: Membership, out: list[Any]) -> None:
    """Every leaf at the dotted path ``segs[i:]`` below ``node``, with its array membership."""
    n = len(segs)
    while True:
        cls = node.__class__
        if cls is list or cls is tuple:
            array = id(node)
            for index, element in enumerate(node):
                _collect(element, segs, i, (*mem, (array, index)), out)
            return
        if cls is not dict and (cls in _SCALARS or not isinstance(node, Mapping)):
            if i == n:
                out.append((node, mem))
            return
        if i == n:
            return  # an object is not a leaf
        child = node.get(segs[i], _MISSING)
        if child is _MISSING:
            # a record key may contain dots ({"a.b": ...} is the field "a.b"); consulted only
            # when the plain key is absent (docs/filters.md, "Dotted keys")
            for j in range(i + 2, n + 1):
                child = node.get(".".join(segs[i:j]), _MISSING)
                if child is not _MISSING:
                    _collect(child, segs, j, mem, out)
            return
        node = child
        i += 1


def _merge(a: Membership, b: Membership) -> Membership | None:
    if not a:
        return b
    if not b:
        return a
    seen = dict(a)
    for array, index in b:
        other = seen.setdefault(array, index)
        if other != index:
            return None
    return tuple(seen.items())


# per field: memberships of the matching leaves, and of all leaves when exists:false applies
Candidates = list[tuple[list[Membership], list[Membership] | None]]


def _rule_matches(record: Any, fields: Sequence[_Field]) -> bool:
    """event-ruler's array-consistent match of one sub-rule (fields in sorted name order)."""
    candidates: Candidates = []
    for field in fields:
        leaves = field.leaves(record)
        test = field.test
        matching = [where for value, where in leaves if test(value)]
        if not matching and not field.absent:
            return False
        everything = [where for _, where in leaves] if field.absent else None
        candidates.append((matching, everything))
    return _search(candidates, 0, ())


def _search(candidates: Candidates, i: int, mem: Membership) -> bool:
    if i == len(candidates):
        return True
    matching, everything = candidates[i]
    for where in matching:
        merged = _merge(mem, where)
        if merged is not None and _search(candidates, i + 1, merged):
            return True
    # exists:false holds when no leaf at the path is consistent with the choices so far
    if everything is not None and all(_merge(mem, where) is None for where in everything):
        return _search(candidates, i + 1, mem)
    return False


def _explain_rule(record: Any, fields: Sequence[_Field]) -> str | None:
    mem: Membership = ()
    for field in fields:
        leaves = field.leaves(record)
        expected = "[" + ",".join(c.describe() for c in field.conds) + "]"
        chosen = None
        for value, where in leaves:
            merged = _merge(mem, where)
            if merged is not None and field.test(value):
                chosen = merged
                break
        if chosen is not None:
            mem = chosen
            continue
        visible = [where for _, where in leaves if _merge(mem, where) is not None]
        if field.absent and not visible:
            continue
        if not leaves:
            return f"{field.name}: no value (missing, or not a leaf); expected {expected}"
        shown = ", ".join(compact_json(value) for value, _ in leaves)
        if any(field.test(value) for value, _ in leaves):
            return (
                f"{field.name}: {shown} matches {expected} only in another element of an "
                "array than the other conditions (array consistency)"
            )
        return f"{field.name}: {shown} does not match {expected}"
    return None


# --------------------------------------------------------------------------- fast path


class _Trie:
    __slots__ = ("children", "field")

    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.field: _Field | None = None

    def fields(self) -> list[_Field]:
        out = [self.field] if self.field is not None else []
        for child in self.children.values():
            out.extend(child.fields())
        return out

    def dotted(self, prefix: str) -> list[str]:
        """Every deeper dotted name below this node (the record keys that could alias it)."""
        out = []
        for seg, child in self.children.items():
            name = f"{prefix}.{seg}"
            out.append(name)
            out.extend(child.dotted(name))
        return out


_MAX_GENERATED_DEPTH = 24


def _depth(node: _Trie) -> int:
    return 1 + max((_depth(child) for child in node.children.values()), default=0)


def _generate(
    node: _Trie, var: str, depth: int, out: list[str], ns: dict[str, Any], bail: str
) -> None:
    """Emit straight-line code checking every field below ``node`` on the dict in ``var``.

    Each key: missing (then a dotted alias below it means "ask the general matcher", else
    every field below must be ``exists: false``), an object (descend), an array or other
    mapping (the array-consistent matcher on this subtree), or a leaf (test it inline).
    """
    pad = "    " * (depth + 1)
    for seg, child in sorted(node.children.items(), key=lambda item: _depth(item[1])):
        below = child.fields()
        leaf = child.field
        value = f"v{depth}"
        out.append(f"{pad}{value} = {var}.get({seg!r}, MISSING)")
        out.append(f"{pad}if {value} is MISSING:")
        aliases = child.dotted(seg)
        if 0 < len(aliases) <= 4:
            present = " or ".join(f"{alias!r} in {var}" for alias in aliases)
            out.append(f"{pad}    if {present}: return {bail}")
        elif aliases:
            key = f"A{len(ns)}"
            ns[key] = frozenset(aliases)
            out.append(f"{pad}    if not {key}.isdisjoint({var}): return {bail}")
        out.append(f"{pad}    {'pass' if all(f.absent for f in below) else 'return False'}")
        out.append(f"{pad}else:")
        out.append(f"{pad}    c = {value}.__class__")
        out.append(f"{pad}    if c is dict:")
        out.append(f"{pad}        {'return False' if leaf and not leaf.absent else 'pass'}")
        if child.children:
            _generate(child, value, depth + 2, out, ns, bail)
        out.append(
            f"{pad}    elif c is list or c is tuple"
            f" or (c not in SCALARS and isinstance({value}, Mapping)):"
        )
        # arrays below this key: only the fields below it can share those arrays, so the
        # array-consistent matcher runs on this subtree alone (exact; see _subtree)
        key = f"S{len(ns)}"
        ns[key] = _subtree(child, depth // 2 + 1)
        out.append(f"{pad}        if not {key}({value}): return False")
        out.append(f"{pad}    else:")
        if leaf is not None:
            out.append(f"{pad}        if {leaf.failed(value, ns)}: return False")
        subs_absent = all(f.absent for f in below if f is not leaf)
        out.append(f"{pad}        {'pass' if subs_absent else 'return False'}")


def _subtree(node: _Trie, level: int) -> Callable[[Any], bool]:
    """The general matcher for the fields below ``node``, relative to its value.

    Field names under one prefix are contiguous in sorted order and no field outside the
    subtree can reach its arrays, so matching the subtree on its own, from an empty array
    membership, decides exactly what the whole sub-rule would decide for these fields.
    """
    fields = []
    for field in sorted(node.fields(), key=lambda f: f.name):
        relative = copy.copy(field)
        relative.segs = field.segs[level:]
        fields.append(relative)
    return lambda value: _rule_matches(value, fields)


def _fields(rule: SubRule) -> tuple[_Trie, list[_Field]]:
    root = _Trie()
    fields = []
    for name, conds in rule:
        node = root
        for seg in name.split("."):
            node = node.children.setdefault(seg, _Trie())
        node.field = _Field(name, conds)
        fields.append(node.field)
    return root, fields


def _generated(roots: Sequence[_Trie], slow: Callable[[Any], bool]) -> Callable[[Any], bool]:
    """Straight-line code for the sub-rules, tried in turn; it calls ``slow`` when unsure."""
    ns: dict[str, Any] = {"MISSING": _MISSING, "SLOW": _SLOW, "GENERAL": slow}
    ns.update(Mapping=Mapping, SCALARS=_SCALARS)
    lines = []
    if len(roots) == 1:
        lines.append("def match(r):")
        lines.append("    if r.__class__ is not dict: return GENERAL(r)")
        _generate(roots[0], "r", 0, lines, ns, "GENERAL(r)")
        lines.append("    return True")
    else:
        for k, root in enumerate(roots):
            lines.append(f"def rule{k}(r):")
            _generate(root, "r", 0, lines, ns, "SLOW")
            lines.append("    return True")
        lines += ["def match(r):", "    if r.__class__ is not dict: return GENERAL(r)"]
        for k in range(len(roots)):
            lines.append(f"    x = rule{k}(r)")
            lines.append("    if x is True: return True")
            lines.append("    if x is not False: return GENERAL(r)")
        lines.append("    return False")
    exec(compile("\n".join(lines), "<ddbstream filter>", "exec"), ns)
    return ns["match"]  # type: ignore[no-any-return]


#: Sub-rules up to which the code is generated when the pattern is built. Python compiles the
#: code of about 1.5 sub-rules per millisecond, so a pattern near event-ruler's 1000 ``$or``
#: combinations would take a second or more to build; beyond this it is generated on the
#: first match, and building (validating, exporting, linting) stays fast.
_EAGER_RULES = 32


def _lazy(roots: Sequence[_Trie], slow: Callable[[Any], bool]) -> Callable[[Any], bool]:
    compiled: list[Callable[[Any], bool]] = []

    def match(record: Any) -> bool:
        if not compiled:
            compiled.append(_generated(roots, slow))
        return compiled[0](record)

    return match


class Matcher:
    """A compiled pattern: ``matches(record)`` and ``explain(record)`` over a Lambda record."""

    __slots__ = ("_rules", "matches")

    def __init__(self, rules: Sequence[SubRule]) -> None:
        tries = [_fields(rule) for rule in rules]
        self._rules = tuple(tuple(fields) for _, fields in tries)
        roots = [root for root, _ in tries]
        #: True when some sub-rule holds (event-ruler semantics); a plain function.
        self.matches: Callable[[Any], bool]
        if max(map(_depth, roots)) > _MAX_GENERATED_DEPTH:
            # too deep to generate nested code for: the general matcher alone
            self.matches = self.slow_matches
        elif len(roots) <= _EAGER_RULES:
            self.matches = _generated(roots, self.slow_matches)
        else:
            self.matches = _lazy(roots, self.slow_matches)

    def slow_matches(self, record: Any) -> bool:
        """The general matcher (arrays, dotted record keys, any Mapping)."""
        if not isinstance(record, Mapping):
            return False
        return any(_rule_matches(record, fields) for fields in self._rules)

    def explain(self, record: Any) -> str | None:
        """None when the record matches, else why the first condition failed."""
        if self.slow_matches(record):
            return None
        reasons = [_explain_rule(record, fields) or "no match" for fields in self._rules]
        if len(reasons) == 1:
            return reasons[0]
        listed = "; ".join(f"[{i + 1}] {reason}" for i, reason in enumerate(reasons))
        return f"no $or alternative matched: {listed}"


def compile_rules(rules: Sequence[SubRule]) -> Matcher:
    """Compile expanded sub-rules (from :func:`ddbstream.filters._pattern.expand`)."""
    return Matcher(rules)
