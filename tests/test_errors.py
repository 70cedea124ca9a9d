"""The error tree: drawn once (the same drawing in ``_errors``' docstring and docs/errors.md, and
that drawing is the real class hierarchy); data errors render their location; ``in_record``
keeps what a subclass adds."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

import ddbstream
from ddbstream import DataError, DDBStreamError, DecodeError, MissingImageError
from ddbstream import _errors as errors_module

DOCS = Path(__file__).resolve().parent.parent / "docs" / "errors.md"
PREFIX = re.compile(r"^[\s│├└─]*")
CLASS = re.compile(r"(?P<name>\w+)(?:\((?P<bases>[^)]*)\))?")

Node = tuple[str, str | None, tuple[str, ...]]  # class, its parent in the tree, bases as drawn


def drawing(text: str) -> list[str]:
    """The lines of the tree drawn in ``text``, from ``DDBStreamError(Exception)`` on."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "DDBStreamError(Exception)")
    tree = []
    for line in lines[start:]:
        if not line.strip() or line.strip().startswith("```"):
            break
        tree.append(line)
    return tree


def parse(tree: list[str]) -> list[Node]:
    """Each drawn class with its parent (from the indentation) and the bases written out."""
    out: list[Node] = []
    parents: list[str] = []
    for line in tree:
        prefix = PREFIX.match(line)[0]  # type: ignore[index]
        match = CLASS.match(line[len(prefix) :])
        assert match, line
        depth = len(prefix) // 4
        del parents[depth:]
        bases = tuple(b.strip() for b in (match["bases"] or "").split(",") if b.strip())
        out.append((match["name"], parents[-1] if parents else None, bases))
        parents.append(match["name"])
    return out


def real_tree() -> list[Node]:
    """The hierarchy of the classes ``_errors`` defines, as :func:`parse` reads a drawing
    (bases are written out for the root and its children only)."""
    defined = {getattr(errors_module, name) for name in errors_module.__all__}
    out: list[Node] = []

    def walk(cls: type, parent: type | None, depth: int) -> None:
        bases = tuple(b.__name__ for b in cls.__bases__) if depth <= 1 else ()
        out.append((cls.__name__, parent.__name__ if parent else None, bases))
        for child in cls.__subclasses__():
            if child in defined:
                walk(child, cls, depth + 1)

    walk(DDBStreamError, None, 0)
    assert {name for name, _, _ in out} == {c.__name__ for c in defined if isinstance(c, type)}
    return out


def test_the_docs_and_the_docstring_draw_the_same_tree() -> None:
    in_docs = drawing(DOCS.read_text())
    in_docstring = [line.removeprefix("    ") for line in drawing(errors_module.__doc__ or "")]
    assert in_docs == in_docstring


def test_the_drawing_is_the_class_hierarchy() -> None:
    drawn = parse(drawing(DOCS.read_text()))
    assert sorted(drawn, key=repr) == sorted(real_tree(), key=repr)
    for name, _, _ in drawn:
        assert getattr(ddbstream, name) is getattr(errors_module, name), f"{name} not exported"


def test_the_check_sees_a_wrong_drawing() -> None:
    wrong = drawing(DOCS.read_text())
    wrong[2] = wrong[2].replace("DecodeError", "DecodingError")
    assert sorted(parse(wrong), key=repr) != sorted(real_tree(), key=repr)


def test_a_data_error_renders_its_location() -> None:
    error = DecodeError(
        "bad", path=("NewImage", "items", 3, "qty"), event_id="e1", sequence_number="9"
    )
    assert str(error) == "bad (eventID=e1, SequenceNumber=9, at NewImage.items[3].qty)"
    assert str(DecodeError("bad")) == "bad"


def test_in_record_keeps_the_first_location_and_the_subclass() -> None:
    error = MissingImageError("no image", path=("dynamodb",), event_id="e1")
    located = error.in_record(event_id="e2", sequence_number="5", prefix=("Records", 0))
    assert type(located) is MissingImageError
    assert (located.event_id, located.sequence_number) == ("e1", "5")
    assert located.path == ("Records", 0, "dynamodb")
    assert error.path == ("dynamodb",), "in_record returns a copy"


@pytest.mark.parametrize("cls", [DecodeError, MissingImageError, DataError])
def test_data_errors_pickle_with_their_fields(cls: type[DataError]) -> None:
    error = cls("bad", path=("Keys", "pk"), event_id="e", sequence_number="1")
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is cls
    assert str(again) == str(error)
