"""``Filter`` (one Lambda filter pattern), ``FilterCriteria`` (up to 5, or 10, of them), and
the compiled matchers behind ``Expression.matches``.

The top of the filters flow (expressions -> compiler -> pattern -> evaluator -> criteria): a
filter is a validated pattern with its :class:`~ddbstream.filters._matcher.Matcher`; criteria
compile DSL expressions (:meth:`FilterCriteria.from_expression`); :func:`matcher` keeps, per
expression, the function ``Expression.matches`` returns.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._errors import FilterNotExpressible, InvalidPattern, LimitExceeded, UsageError
from ._compile import compile_filters
from ._expr import Expression, LocalPredicate, evaluate, node_of
from ._json import dumps, loads
from ._matcher import Matcher
from ._pattern import Validated, validate
from ._record import EVENT_NAMES, lambda_mapping

__all__ = [
    "DEFAULT_MAX_FILTERS",
    "HARD_MAX_FILTERS",
    "Filter",
    "FilterCriteria",
    "compile_filters",
    "matcher",
    "to_criteria",
]

DEFAULT_MAX_FILTERS = 5
HARD_MAX_FILTERS = 10


@dataclass(frozen=True, slots=True, repr=False)
class Filter:
    """One Lambda event-filter pattern, validated, and compiled for local matching.

    The same object serves three jobs: it is what you send to Lambda (:meth:`to_json`), what
    you test locally with AWS's semantics (:meth:`matches`, :meth:`explain`), and what the
    linter inspects. Build it with :meth:`from_pattern`. Filters are immutable values: equal
    (and equally hashed) when their patterns are equal up to key order.

    Example:
        >>> from ddbstream.filters import Filter
        >>> f = Filter.from_pattern('{"eventName": ["INSERT"]}')
        >>> f.matches({"eventName": "INSERT"}), f.matches({"eventName": "REMOVE"})
        (True, False)
        >>> f
        Filter.from_pattern('{"eventName":["INSERT"]}')

    .. versionadded:: 0.1
    """

    _text: str = field(compare=False)
    _key: str
    _valid: Validated = field(compare=False)
    _matcher: Matcher = field(compare=False)

    @classmethod
    def _of(cls, valid: Validated) -> Filter:
        """The filter of a validated pattern."""
        return cls(valid.text, dumps(valid.value, sort_keys=True), valid, Matcher([valid.rule]))

    @classmethod
    def from_pattern(cls, pattern: str | bytes | Mapping[str, Any]) -> Filter:
        """Build a filter from a pattern given as JSON text or as a mapping.

        Repeated object keys in JSON text merge the way event-ruler reads them (the Lambda
        docs' "Boolean AND" example repeats ``"dynamodb"``); for an identical leaf path the
        last value wins.

        Args:
            pattern: the pattern, e.g. ``{"dynamodb": {"NewImage": {"s": {"S": ["x"]}}}}``.

        Returns:
            The validated, compiled filter.

        Raises:
            InvalidPattern: a pattern AWS rejects; ``reason`` is event-ruler's message where it
                has one, ``path`` locates the problem inside the pattern.
        """
        if isinstance(pattern, (Mapping, str, bytes, bytearray)):
            return cls._of(validate(pattern))
        raise InvalidPattern(f"a pattern is JSON text or a mapping, not {type(pattern).__name__}")

    def to_pattern(self) -> dict[str, Any]:
        """The pattern as a new dict (round-trips through :meth:`from_pattern`)."""
        return loads(self._text)  # type: ignore[no-any-return]

    def to_json(self) -> str:
        """The pattern as compact JSON: the string Lambda's ``Pattern`` field takes."""
        return self._text

    @property
    def matches(self) -> Callable[[Any], bool]:
        """Whether Lambda would deliver a record: ``f.matches(record)`` on a Lambda record dict
        or a StreamRecord. A plain function (fetch it once to call it in a loop).

        Raises:
            UsageError: (when called) the record is neither a mapping nor a StreamRecord.
        """
        return self._matcher.matches

    def explain(self, record: Any) -> str | None:
        """None when ``record`` matches; otherwise the first condition that failed, with its
        path, the expected values and what the record holds there."""
        return self._matcher.explain(record)

    def event_names(self) -> frozenset[str]:
        """The ``eventName`` values (``INSERT``, ``MODIFY``, ``REMOVE``) this filter can let
        through, judged by its conditions on ``eventName`` alone: conditions on other fields
        may still drop every record of a kind, never add one.

        Example:
            >>> from ddbstream.filters import Filter
            >>> sorted(Filter.from_pattern('{"eventName": ["INSERT", "MODIFY"]}').event_names())
            ['INSERT', 'MODIFY']
        """
        return frozenset(n for n in EVENT_NAMES if self._matcher.admits("eventName", n))

    def __repr__(self) -> str:
        return f"Filter.from_pattern({self._text!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Filter.from_pattern, (self._text,))


def _local_only(item: object) -> FilterNotExpressible:
    return FilterNotExpressible(
        f"{item!r} is a local predicate (changed()/where()): Lambda cannot evaluate it, so it "
        "cannot be part of a FilterCriteria; local predicates run only in the Router (or your "
        "handler). Put the expressible part in the criteria and route on the whole predicate"
    )


def _coerce(
    items: Iterable[Filter | Expression | str | Mapping[str, Any]], max_filters: int
) -> tuple[Filter, ...]:
    """Filters and patterns as they are; every Expression ORed and compiled to the fewest
    filters, placed where the first expression was."""
    out: list[Filter | None] = []
    expressions: list[Expression] = []
    for item in items:
        if isinstance(item, Filter):
            out.append(item)
        elif isinstance(item, Expression):
            if not expressions:
                out.append(None)  # the compiled filters go here
            expressions.append(item)
        elif isinstance(item, LocalPredicate):
            raise _local_only(item)
        else:
            out.append(Filter.from_pattern(item))
    if not expressions:
        return tuple(f for f in out if f is not None)
    combined = expressions[0]
    for expr in expressions[1:]:
        combined = combined | expr
    compiled = [Filter.from_pattern(p) for p in compile_filters(combined, max_filters=max_filters)]
    at = out.index(None)
    return (*(f for f in out[:at] if f), *compiled, *(f for f in out[at + 1 :] if f))


@dataclass(frozen=True, slots=True, init=False, repr=False)
class FilterCriteria:
    """The ``FilterCriteria`` of a Lambda event source mapping: filters that are ORed.

    A record is delivered when at least one filter matches; with no filters every record is
    delivered. Lambda allows 5 filters per mapping, or up to 10 after a quota increase: pass
    ``max_filters=`` to say your account has the higher quota.

    Args:
        filters: :class:`Filter` objects, patterns (JSON text or dicts, passed to
            :meth:`Filter.from_pattern`) and DSL :class:`Expression` objects. The expressions
            are ORed and compiled together to the fewest filters (see ``compile_filters``),
            which take the place of the first expression in the list.
        max_filters: your filters-per-mapping quota, 1 to 10 (default 5).

    Raises:
        LimitExceeded: more filters than ``max_filters``.
        FilterNotExpressible: a :class:`LocalPredicate` (``changed()``, ``where()``), which
            runs only in the Router, or an expression Lambda has no operator for.
        InvalidPattern: an invalid pattern.
        UsageError: ``max_filters`` outside 1..10, or ``filters`` is not a list.

    Example:
        >>> from ddbstream.filters import Filter, FilterCriteria
        >>> criteria = FilterCriteria([Filter.from_pattern({"eventName": ["REMOVE"]})])
        >>> criteria.to_dict()
        {'Filters': [{'Pattern': '{"eventName":["REMOVE"]}'}]}
        >>> from ddbstream.filters import event_name
        >>> FilterCriteria([event_name == "INSERT", event_name == "REMOVE"]).to_dict()
        {'Filters': [{'Pattern': '{"eventName":["INSERT","REMOVE"]}'}]}

    .. versionadded:: 0.1
    """

    filters: tuple[Filter, ...]
    max_filters: int = field(compare=False)
    _matcher: Matcher | None = field(compare=False)

    def __init__(
        self,
        filters: Iterable[Filter | Expression | str | Mapping[str, Any]] = (),
        *,
        max_filters: int = DEFAULT_MAX_FILTERS,
    ) -> None:
        if isinstance(max_filters, bool) or not isinstance(max_filters, int):
            raise UsageError(f"{max_filters=} must be an int from 1 to {HARD_MAX_FILTERS}")
        if not 1 <= max_filters <= HARD_MAX_FILTERS:
            raise UsageError(
                f"{max_filters=} is outside 1..{HARD_MAX_FILTERS}: Lambda allows 5 filters per "
                f"event source mapping, {HARD_MAX_FILTERS} at most with a quota increase"
            )
        if isinstance(filters, LocalPredicate):
            raise _local_only(filters)
        if isinstance(filters, (str, bytes, Mapping, Filter, Expression)) or not isinstance(
            filters, Iterable
        ):
            raise UsageError(
                "FilterCriteria takes a list of filters, not a single pattern or expression: "
                "FilterCriteria([...])"
            )
        items = _coerce(filters, max_filters)
        if len(items) > max_filters:
            hint = ""
            if max_filters < HARD_MAX_FILTERS:
                hint = f"; with a raised quota pass max_filters= (up to {HARD_MAX_FILTERS})"
            raise LimitExceeded(
                f"{len(items)} filters exceed the limit of {max_filters} per event source "
                f"mapping{hint}; or combine patterns with $or"
            )
        object.__setattr__(self, "filters", items)
        object.__setattr__(self, "max_filters", max_filters)
        object.__setattr__(self, "_matcher", None)

    @classmethod
    def from_expression(
        cls, expression: Expression, *, max_filters: int = DEFAULT_MAX_FILTERS
    ) -> FilterCriteria:
        """Compile a DSL expression into criteria of the fewest filters.

        Args:
            expression: an expressible filter (never a :class:`LocalPredicate`).
            max_filters: your filters-per-mapping quota: 5, or up to 10 after a quota increase.

        Raises:
            FilterNotExpressible: see :func:`compile_filters`.
            LimitExceeded: more than ``max_filters`` filters would be needed.

        Example:
            >>> from ddbstream.filters import FilterCriteria, event_name
            >>> FilterCriteria.from_expression(event_name != "REMOVE").to_dict()
            {'Filters': [{'Pattern': '{"eventName":[{"anything-but":["REMOVE"]}]}'}]}
        """
        patterns = compile_filters(expression, max_filters=max_filters)
        return cls([Filter.from_pattern(p) for p in patterns], max_filters=max_filters)

    @property
    def matches(self) -> Callable[[Any], bool]:
        """Whether Lambda would deliver a record (some filter matches, or there are none):
        ``criteria.matches(record)``, one compiled function for all the filters.

        Raises:
            UsageError: (when called) the record is neither a mapping nor a StreamRecord.
        """
        if not self.filters:
            return _everything
        if self._matcher is None:
            object.__setattr__(self, "_matcher", Matcher([f._valid.rule for f in self.filters]))
        assert self._matcher is not None
        return self._matcher.matches

    def event_names(self) -> frozenset[str]:
        """The ``eventName`` values some filter of the criteria can let through (see
        :meth:`Filter.event_names`); all three for an empty criteria, which filters nothing.

        Example:
            >>> from ddbstream.filters import FilterCriteria, event_name
            >>> sorted(FilterCriteria([event_name == "INSERT"]).event_names())
            ['INSERT']
        """
        if not self.filters:
            return frozenset(EVENT_NAMES)
        return frozenset().union(*(f.event_names() for f in self.filters))

    def explain(self, record: Any) -> str | None:
        """None when ``record`` is delivered, else why each filter rejected it."""
        if self.matches(record):
            return None
        reasons = [f.explain(record) or "no match" for f in self.filters]
        if len(reasons) == 1:
            return reasons[0]
        return "; ".join(f"filter {i + 1}: {r}" for i, r in enumerate(reasons))

    def to_dict(self) -> dict[str, Any]:
        """Exactly what the Lambda API, CloudFormation and SAM take: ``{"Filters": [...]}``."""
        return {"Filters": [{"Pattern": f.to_json()} for f in self.filters]}

    def to_json(self) -> str:
        """:meth:`to_dict` as compact JSON (``aws lambda ... --filter-criteria``)."""
        return dumps(self.to_dict())

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, max_filters: int = DEFAULT_MAX_FILTERS
    ) -> FilterCriteria:
        """Read ``{"Filters": [{"Pattern": "<json>"}]}`` (API / CloudFormation) or CDK's
        lower-case ``{"filters": [{"pattern": ...}]}``; a pattern may be text or an object.

        Raises:
            InvalidPattern: the shape is wrong or a pattern is invalid (``path`` says where).
        """
        if not isinstance(data, Mapping):
            raise InvalidPattern("FilterCriteria must be an object")
        if not data:
            return cls((), max_filters=max_filters)
        outer, inner = ("Filters", "Pattern") if "Filters" in data else ("filters", "pattern")
        unknown = set(data) - {outer}
        items = data.get(outer)
        if unknown or not isinstance(items, list):
            raise InvalidPattern(
                'FilterCriteria must be {"Filters": [{"Pattern": "..."}]}', path=(outer,)
            )
        filters = []
        for i, item in enumerate(items):
            if not isinstance(item, Mapping) or set(item) != {inner}:
                raise InvalidPattern(f"each filter must be {{{inner!r}: ...}}", path=(outer, i))
            try:
                filters.append(Filter.from_pattern(item[inner]))
            except InvalidPattern as exc:
                raise InvalidPattern(exc.reason, path=(outer, i, inner, *exc.path)) from exc
        return cls(filters, max_filters=max_filters)

    @classmethod
    def from_json(cls, text: str, *, max_filters: int = DEFAULT_MAX_FILTERS) -> FilterCriteria:
        """Read :meth:`to_json` output (or any JSON :meth:`from_dict` accepts)."""
        data = loads(text, what="FilterCriteria")
        return cls.from_dict(data, max_filters=max_filters)

    def __iter__(self) -> Iterator[Filter]:
        return iter(self.filters)

    def __len__(self) -> int:
        return len(self.filters)

    def __repr__(self) -> str:
        inner = ", ".join(map(repr, self.filters))
        extra = ""
        if self.max_filters != DEFAULT_MAX_FILTERS:
            extra = f", max_filters={self.max_filters}"
        return f"FilterCriteria([{inner}]{extra})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FilterCriteria._rebuild, (self.filters, self.max_filters))

    @classmethod
    def _rebuild(cls, filters: tuple[Filter, ...], max_filters: int) -> FilterCriteria:
        return cls(filters, max_filters=max_filters)


def _everything(record: Any) -> bool:
    lambda_mapping(record)  # still only records
    return True


def to_criteria(
    expression: Expression, *, max_filters: int = DEFAULT_MAX_FILTERS
) -> FilterCriteria:
    """Compile ``expression`` into a :class:`FilterCriteria` of the fewest filters (the same as
    :meth:`FilterCriteria.from_expression`).

    Example:
        >>> from ddbstream.filters import event_name, to_criteria
        >>> to_criteria(event_name != "REMOVE").to_dict()
        {'Filters': [{'Pattern': '{"eventName":[{"anything-but":["REMOVE"]}]}'}]}
    """
    return FilterCriteria.from_expression(expression, max_filters=max_filters)


#: Expression -> its compiled matcher, for as long as the expression lives: by identity (what
#: ``expr.matches`` looks up on every call) and by value (equal expressions share a matcher).
_BY_ID: dict[int, tuple[weakref.ref[Expression], Callable[[Any], bool]]] = {}
_BY_VALUE: weakref.WeakKeyDictionary[Expression, Callable[[Any], bool]] = (
    weakref.WeakKeyDictionary()
)


def matcher(expression: Expression) -> Callable[[Any], bool]:
    """The function behind ``expression.matches``: the compiled matcher of its patterns (the
    matcher Filter uses), or a walk of its tree when Lambda has no operator for it. Compiled on
    first use and kept while the expression (or an equal one) lives."""
    key = id(expression)
    entry = _BY_ID.get(key)
    if entry is not None and entry[0]() is expression:
        return entry[1]
    found = _BY_VALUE.get(expression)
    if found is None:
        found = _BY_VALUE[expression] = _compiled(expression)
    _BY_ID[key] = (weakref.ref(expression, lambda _: _BY_ID.pop(key, None)), found)
    return found


def _compiled(expression: Expression) -> Callable[[Any], bool]:
    try:
        patterns = compile_filters(expression, max_filters=HARD_MAX_FILTERS)
    except (FilterNotExpressible, LimitExceeded):
        node = node_of(expression)
        return lambda record: evaluate(node, lambda_mapping(record))
    return Matcher([validate(pattern).rule for pattern in patterns]).matches
