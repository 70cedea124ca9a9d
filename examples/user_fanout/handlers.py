"""Deprecated: the user-fanout tutorial's module is ``handler.py`` now (``handler`` is the search
projection, ``audit_handler`` the audit log). This module re-exports them under their old
names for one release."""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

warnings.warn(
    "examples/user_fanout/handlers.py is deprecated: use handler.py (handler, audit_handler)",
    DeprecationWarning,
    stacklevel=2,
)

_spec = importlib.util.spec_from_file_location(
    "user_fanout_handler", Path(__file__).with_name("handler.py")
)
assert _spec is not None
assert _spec.loader is not None
_module = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_module)

FILTER_CRITERIA = _module.AUDIT_FILTER_CRITERIA  # both old mappings were MODIFY only
BATCH_SIZE = _module.BATCH_SIZE
search_handler = _module.handler
audit_handler = _module.audit_handler
create_tables = _module.create_tables
