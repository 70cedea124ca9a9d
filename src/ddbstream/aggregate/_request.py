"""One DynamoDB ``UpdateItem`` request, built under the limits DynamoDB enforces.

DynamoDB refuses an expression longer than 4,096 bytes and a condition with more than 300
operators (comparisons, ``AND``/``OR``/``NOT`` and functions each count one). Both limits were
measured on DynamoDB Local 3.3.0 and match AWS's documentation: 75 conditions of the form
``(attribute_not_exists(#w) OR #w < :f)`` (four operators each with their ``AND``) pass and 76
fail with "too many operators; operator count: 301"; ``NOT #w >= :f`` costs three and 100 of them
pass. :class:`Update` counts both as it grows, so a request is known to fit before it is sent.

Example:
    >>> update = Update()
    >>> update.add("Total", {"N": "5"})
    >>> update.condition(f"NOT {update.name('_wabc')} >= {update.value({'B': b'1'})}", 2)
    >>> update.expressions()
    ('ADD #n0 :v0', 'NOT #n1 >= :v1')
    >>> update.operators, update.fits()
    (2, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_EXPRESSION_BYTES", "MAX_OPERATORS", "Update"]

#: Most operators (comparisons, AND/OR/NOT, functions) in one condition expression.
MAX_OPERATORS = 300
#: Most bytes in one expression (update or condition).
MAX_EXPRESSION_BYTES = 4096


class Update:
    """An ``UpdateItem`` being built: placeholders, clauses, conditions, and their cost."""

    __slots__ = ("_placeholders", "adds", "conditions", "names", "operators", "removes", "sets",
                 "values")  # fmt: skip

    def __init__(self) -> None:
        self._placeholders: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}
        self.sets: list[str] = []
        self.adds: list[str] = []
        self.removes: list[str] = []
        self.conditions: list[str] = []
        self.operators = 0

    def name(self, attribute: str) -> str:
        """The placeholder of ``attribute`` (the same one on every call)."""
        placeholder = self._placeholders.get(attribute)
        if placeholder is None:
            placeholder = self._placeholders[attribute] = f"#n{len(self.names)}"
            self.names[placeholder] = attribute
        return placeholder

    def value(self, attribute_value: Mapping[str, Any]) -> str:
        """A new value placeholder for ``attribute_value`` (a descriptor)."""
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = dict(attribute_value)
        return placeholder

    def set(self, attribute: str, attribute_value: Mapping[str, Any]) -> None:
        self.sets.append(f"{self.name(attribute)} = {self.value(attribute_value)}")

    def add(self, attribute: str, attribute_value: Mapping[str, Any]) -> None:
        self.adds.append(f"{self.name(attribute)} {self.value(attribute_value)}")

    def remove(self, attribute: str) -> None:
        self.removes.append(self.name(attribute))

    def condition(self, text: str, operators: int) -> None:
        """AND ``text`` (which has ``operators`` operators) into the condition."""
        self.operators += operators + (1 if self.conditions else 0)
        self.conditions.append(text)

    @property
    def empty(self) -> bool:
        """True when the request would change nothing."""
        return not (self.sets or self.adds or self.removes)

    def expressions(self) -> tuple[str, str | None]:
        """``(UpdateExpression, ConditionExpression or None)``."""
        clauses = []
        if self.adds:
            clauses.append("ADD " + ", ".join(self.adds))
        if self.sets:
            clauses.append("SET " + ", ".join(self.sets))
        if self.removes:
            clauses.append("REMOVE " + ", ".join(self.removes))
        condition = " AND ".join(self.conditions) if self.conditions else None
        return " ".join(clauses), condition

    def fits(self) -> bool:
        """True when DynamoDB accepts the expressions' sizes and operator count."""
        update, condition = self.expressions()
        return (
            self.operators <= MAX_OPERATORS
            and len(update.encode()) <= MAX_EXPRESSION_BYTES
            and len((condition or "").encode()) <= MAX_EXPRESSION_BYTES
        )

    def params(self, table: str, key: Mapping[str, Any]) -> dict[str, Any]:
        """The ``update_item`` keyword arguments."""
        update, condition = self.expressions()
        params: dict[str, Any] = {
            "TableName": table,
            "Key": dict(key),
            "UpdateExpression": update,
            "ExpressionAttributeNames": dict(self.names),
        }
        if self.values:
            params["ExpressionAttributeValues"] = dict(self.values)
        if condition is not None:
            params["ConditionExpression"] = condition
        return params
