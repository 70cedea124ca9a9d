"""The installed version of ddbstream, read from the package metadata (pyproject.toml is the
one place it is written).

Reading the metadata imports :mod:`importlib.metadata` (about 10-30 ms), so ``import ddbstream``
does not load this module: ``ddbstream.__version__`` does, on first access.

Example:
    >>> import ddbstream
    >>> from importlib.metadata import version
    >>> ddbstream.__version__ == version("ddbstream")
    True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__: str = version("ddbstream")
except PackageNotFoundError:  # source tree on sys.path without an install: no metadata to read
    __version__ = "0+unknown"
