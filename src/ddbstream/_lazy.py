"""Loading on first use: one loader for every package ``__init__``, and the optional extras.

Every millisecond of import is paid by each Lambda cold start, so a package's ``__init__`` names
what it exports and where each name lives, and :func:`attach` imports a module only when one of
its names is first read. Every export reports the package as its ``__module__`` (as httpx does),
so reprs, tracebacks and docs show ``ddbstream.Router``, not ``ddbstream._routing.Router``.

boto3, pydantic, hypothesis and pytest are optional: ``pip install ddbstream`` brings only
typing-extensions. :func:`require` imports one of them and, when it is missing, raises a
:class:`~ddbstream.UsageError` that names the ``pip install`` line; :func:`attach` does the same
when a lazily loaded module needs one.
"""

from __future__ import annotations
import __future__

import contextlib
import importlib
import types
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._errors import UsageError

__all__ = ["EXTRAS", "attach", "require", "set_module"]

EXTRAS: Mapping[str, str] = {
    "boto3": "aws",
    "botocore": "aws",
    "pydantic": "pydantic",
    "pydantic_core": "pydantic",
    "hypothesis": "testing",
    "pytest": "testing",
}
"""The optional distributions, each with the extra of ``ddbstream`` that installs it."""


def _missing(exc: ModuleNotFoundError, purpose: str) -> UsageError | None:
    root = (exc.name or "").partition(".")[0]
    extra = EXTRAS.get(root)
    if extra is None:
        return None
    return UsageError(
        f"{purpose} needs {root}, which is not installed: pip install 'ddbstream[{extra}]'"
    )


def require(module: str, *, purpose: str) -> types.ModuleType:
    """Import an optional dependency, or raise a :class:`UsageError` naming the extra to install.

    Args:
        module: e.g. ``"boto3"`` or ``"pydantic"``.
        purpose: what needs it, for the message (``"DynamoDBSink"``, ``"typed models"``).

    Example:
        >>> require("json", purpose="the example").__name__
        'json'
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        error = _missing(exc, purpose)
        if error is None:
            raise
        raise error from exc


def _is_export(name: str, value: object) -> bool:
    """A name a package ``__init__`` bound that is one of its exports, not a helper it used."""
    if name.startswith("_") and name != "__version__":
        return False
    helper = value is attach or value is __future__.annotations or isinstance(value, bool)
    return not helper and not isinstance(value, types.ModuleType)


def set_module(value: object, package: str) -> None:
    """Report ``package`` as the ``__module__`` of an exported class or function."""
    if isinstance(value, type) or callable(value):
        with contextlib.suppress(AttributeError, TypeError):  # a builtin keeps its own
            value.__module__ = package


def attach(
    package: str,
    lazy: Mapping[str, str],
    *,
    eager: Iterable[object] = (),
    submodules: Iterable[str] = (),
    deprecated: Mapping[str, tuple[str, str]] = {},
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of a package that loads its names on first use.

    Args:
        package: the package's ``__name__``.
        lazy: exported name -> the relative module that defines it (``"._routing"``).
        eager: objects the package imported at the top; they get ``__module__`` rewritten too.
        submodules: public subpackages or modules returned by attribute access.
        deprecated: old name -> (the relative module that defines it, the name to use
            instead): still importable for one release, with a ``DeprecationWarning``; not in
            ``__all__`` or ``dir()``.

    Returns:
        ``(__getattr__, __dir__)`` to assign in the package's namespace. The package also gets
        ``_EXPORTS``, the set of names it defines, which ``__all__`` must list exactly.
    """
    eager = list(eager)
    for value in eager:
        set_module(value, package)
    subs = frozenset(submodules)
    names = sorted({*lazy, *subs})
    namespace: dict[str, Any] = vars(importlib.import_module(package))
    # What the package defines, which its __all__ must list exactly (tests/test_exported_members
    # checks it): its lazy names, what its own imports bound so far, its submodules.
    imported = {name for name, value in namespace.items() if _is_export(name, value)}
    namespace["_EXPORTS"] = frozenset({*lazy, *imported, *subs})

    def load(module_name: str, name: str) -> types.ModuleType:
        try:
            return importlib.import_module(module_name, package)
        except ModuleNotFoundError as exc:
            error = _missing(exc, f"{package}.{name}")
            if error is None:
                raise
            raise error from exc

    def __getattr__(name: str) -> Any:
        if name in subs:
            return load(f".{name}", name)
        if name in deprecated:
            home, instead = deprecated[name]
            warnings.warn(
                f"{package}.{name} is deprecated; use {instead}", DeprecationWarning, stacklevel=2
            )
            return getattr(load(home, name), name)
        module_name = lazy.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(load(module_name, name), name)
        set_module(value, package)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace.get("__all__", ()), *names})

    return __getattr__, __dir__
