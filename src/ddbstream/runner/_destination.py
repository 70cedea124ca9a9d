"""The on-failure destination: where AWS's record of given-up records goes.

A callable receives the SQS/SNS shape (a dict), a path gets it appended as one JSON line, a
:class:`FailureFolder` gets the S3 shape (with the records' ``payload``) as one file per
failure, named like AWS's S3 keys, and without a destination the record is logged at ERROR.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, Union

from .._errors import UsageError
from ._failures import FailureRecord

__all__ = ["FailureFolder", "OnFailure", "make_destination"]

log = logging.getLogger("ddbstream.runner")


@dataclasses.dataclass(frozen=True, slots=True)
class FailureFolder:
    """An S3-like on-failure destination on disk: one JSON file per failure, in AWS's S3 shape
    (the metadata plus ``payload``, the records as JSON text), at AWS's key
    ``aws/lambda/<mapping UUID>/<shard>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<UUID>`` below ``path``.

    A folder written this way and a copy of a real S3 destination (``aws s3 sync``) read the
    same: ``FailureRecord.read(folder)`` and ``ddbstream redrive`` take either.

    Args:
        path: the folder (created when missing).
        mapping_uuid: the UUID in the keys; by default one derived from the function and the
            stream, stable across runs.

    Example:
        >>> FailureFolder("failures")
        FailureFolder(path='failures', mapping_uuid=None)
    """

    path: str | os.PathLike[str]
    mapping_uuid: str | None = None

    def write(self, failure: FailureRecord) -> Path:
        """Write one record; return its file."""
        mapping = self.mapping_uuid or str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"{failure.function_arn} {failure.stream_arn}")
        )
        file = Path(self.path) / failure.s3_key(mapping)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(failure.to_dict(with_payload=True)), encoding="utf-8")
        return file


#: A callable receiving each on-failure record (SQS/SNS shape), a JSON-lines file path, a
#: :class:`FailureFolder` (S3 shape), or None (log at ERROR).
OnFailure = Union[Callable[[dict[str, Any]], object], str, "os.PathLike[str]", FailureFolder, None]


def make_destination(target: OnFailure) -> Callable[[FailureRecord], None]:
    """Turn any :data:`OnFailure` into one send function.

    Raises:
        UsageError: ``target`` is none of these.
    """
    if target is None:

        def send_log(failure: FailureRecord) -> None:
            text = json.dumps(failure.to_dict())
            log.error("discarded batch (no on-failure destination): %s", text)

        return send_log
    if isinstance(target, FailureFolder):
        folder = target

        def send_folder(failure: FailureRecord) -> None:
            folder.write(failure)

        return send_folder
    if callable(target):
        call = target

        def send_call(failure: FailureRecord) -> None:
            call(failure.to_dict())

        return send_call
    if not isinstance(target, (str, os.PathLike)):
        raise UsageError(
            f"on_failure={target!r} must be a callable, a JSON-lines path, a FailureFolder or None"
        )
    path = os.fspath(target)
    lock = threading.Lock()

    def send_file(failure: FailureRecord) -> None:
        line = json.dumps(failure.to_dict(), separators=(",", ":")) + "\n"
        with lock, open(path, "a", encoding="utf-8") as fh:
            fh.write(line)

    return send_file
