"""Typed attributes: the model's field types pick the descriptor; unknown names fail early."""

from __future__ import annotations

import dataclasses
import enum
import subprocess
import sys
from decimal import Decimal
from typing import Annotated, Literal

import pydantic
import pytest
from typing_extensions import TypedDict

from ddbstream import FilterNotExpressible, UsageError
from ddbstream.filters import typed


class Status(str, enum.Enum):
    OPEN = "OPEN"
    PAID = "PAID"


@dataclasses.dataclass
class Address:
    city: str
    zip: int


@dataclasses.dataclass
class Invoice:
    pk: str
    Amount: int
    Total: Decimal
    Rate: float
    Status: Status
    Paid: bool
    Blob: bytes
    Tags: set[str]
    Lines: list[int]
    Address: Address
    Note: str | None = None
    Kind: Literal["a", "b"] = "a"
    Meta: Annotated[str, "doc"] = ""


class InvoiceModel(pydantic.BaseModel):
    pk: str
    amount: int = pydantic.Field(alias="Amount")
    paid: bool = False


class InvoiceDict(TypedDict):
    pk: str
    Amount: int


def leaf(expr: object) -> object:
    (pattern,) = expr.to_patterns()  # type: ignore[attr-defined]
    section = pattern["dynamodb"]
    ((_, image),) = section.items()
    ((_, value),) = image.items()
    return value


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        (lambda a: a.new.Amount == 5, {"N": ["5"]}),
        (lambda a: a.new.Total == Decimal("1.50"), {"N": ["1.5"]}),
        (lambda a: a.new.Rate == 2, {"N": ["2"]}),
        (lambda a: a.new.Amount == "007", {"N": ["7"]}),
        (lambda a: a.new.Status == "x", {"S": ["x"]}),
        (lambda a: a.new.Status == Status.PAID, {"S": ["PAID"]}),
        (lambda a: a.new.Paid == True, {"BOOL": [True]}),  # noqa: E712
        (lambda a: a.new.Blob == b"\x00\x01", {"B": ["AAE="]}),
        (lambda a: a.new.Note == "n", {"S": ["n"]}),
        (lambda a: a.new.Kind == "b", {"S": ["b"]}),
        (lambda a: a.new.Meta.exists(), {"S": [{"exists": True}]}),
        (lambda a: a.new.Amount.exists(), {"N": [{"exists": True}]}),
        (lambda a: a.new.Tags.exists(), {"SS": [{"exists": True}]}),
        (lambda a: a.new.Tags.contains("x"), {"SS": ["x"]}),
        (lambda a: a.new.Lines.contains(3), {"L": {"N": ["3"]}}),
        (lambda a: a.new.Address.city == "Paris", {"M": {"city": {"S": ["Paris"]}}}),
        (lambda a: a.new["Address"]["zip"] == 75001, {"M": {"zip": {"N": ["75001"]}}}),
        (lambda a: a.keys.pk.begins_with("INV#"), {"S": [{"prefix": "INV#"}]}),
        (lambda a: a.old.Amount != 5, {"N": [{"anything-but": ["5"]}, {"exists": False}]}),
    ],
)
def test_field_types_pick_the_descriptor(build: object, expected: object) -> None:
    assert leaf(build(typed(Invoice))) == expected  # type: ignore[operator]


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda a: a.new.Amout, AttributeError, "has no attribute 'Amout'.*known: Address, Amount"),
        (lambda a: a.new.Address.town, AttributeError, "Address has no attribute 'town'"),
        (lambda a: a.new.Amount == "x", FilterNotExpressible, "holds N values"),
        (lambda a: a.new.Amount > 5, FilterNotExpressible, "compares N values as strings"),
        (lambda a: a.new.Status == 5, FilterNotExpressible, "holds S values"),
        (lambda a: a.new.Paid.begins_with("t"), FilterNotExpressible, "never matches"),
        (lambda a: a.new.Address.exists(), FilterNotExpressible, "non-leaf"),
        (lambda a: a.new.Lines == 1, FilterNotExpressible, "non-leaf"),
        (lambda a: a.new.Tags == "x", FilterNotExpressible, "a set"),
        (lambda a: a.new.Tags.contains(1), FilterNotExpressible, "holds S elements"),
        (lambda a: a.new.Amount.contains(1), FilterNotExpressible, "needs a set or list"),
        (lambda a: a.keys.Paid, AttributeError, "key attributes are S, N or B"),
    ],
)
def test_mistakes_fail_when_built(build: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        build(typed(Invoice))  # type: ignore[operator]


def test_pydantic_aliases_and_typed_dicts() -> None:
    attrs = typed(InvoiceModel)
    assert (attrs.new.amount == 5).to_patterns() == [
        {"dynamodb": {"NewImage": {"Amount": {"N": ["5"]}}}}
    ]
    assert (attrs.new.Amount == 5).to_patterns() == (attrs.new.amount == 5).to_patterns()
    assert leaf(typed(InvoiceDict).new.Amount == 1) == {"N": ["1"]}
    assert repr(attrs.new.paid == True) == "typed(InvoiceModel).new.paid == True"  # noqa: E712
    assert repr(attrs) == "typed(InvoiceModel)"
    assert "amount" in dir(attrs.new) or "Amount" in dir(attrs.new)


def test_typed_rejects_non_models() -> None:
    with pytest.raises(UsageError, match="pydantic model, dataclass or TypedDict"):
        typed(int)


def test_importing_the_dsl_does_not_import_pydantic() -> None:
    code = "import sys, ddbstream.filters; sys.exit('pydantic' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
