"""Fault injection and the request log (contract §8). Both are emulator-only."""

from __future__ import annotations

import re
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from emulator.errors import FAULT_MESSAGES

FAULT_STATUSES = tuple(sorted(FAULT_MESSAGES))
DEFAULT_HANG_SECONDS = 30.0
REQUEST_LOG_LIMIT = 50_000  # enough for any test; a long benchmark just rolls over


@dataclass
class Fault:
    id: int
    path_regex: re.Pattern[str]
    method: str | None  # None: any method
    status: int | None  # None: no error, only latency (with `raw_body`: that body's status)
    retry_after: int | None
    times: int | None  # None: until cleared
    latency_ms: float
    timeout: bool
    hang_seconds: float
    apply: bool = False  # process the request (FastPix acts), then answer the fault instead
    raw_body: str | None = None  # answer exactly this body (a malformed answer) instead of JSON
    content_type: str = "text/plain"

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and self.path_regex.search(path) is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path_regex": self.path_regex.pattern,
            "method": self.method,
            "status": self.status,
            "retry_after": self.retry_after,
            "times": self.times,
            "latency_ms": self.latency_ms,
            "timeout": self.timeout,
            "hang_seconds": self.hang_seconds,
            "apply": self.apply,
            "raw_body": self.raw_body,
            "content_type": self.content_type,
        }


class FaultBook:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(
        self,
        *,
        path_regex: str,
        method: str | None,
        status: int | None,
        retry_after: int | None,
        times: int | None,
        latency_ms: float,
        timeout: bool,
        hang_seconds: float,
        apply: bool = False,
        raw_body: str | None = None,
        content_type: str = "text/plain",
    ) -> Fault:
        with self._lock:
            fault = Fault(
                id=self._next_id,
                path_regex=re.compile(path_regex),
                method=method.upper() if method else None,
                status=status,
                retry_after=retry_after,
                times=times,
                latency_ms=latency_ms,
                timeout=timeout,
                hang_seconds=hang_seconds,
                apply=apply,
                raw_body=raw_body,
                content_type=content_type,
            )
            self._next_id += 1
            self._faults.append(fault)
            return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first matching fault, with one of its `times` used up."""
        if not self._faults:  # the common case, without the lock
            return None
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
            return None

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [fault.to_json() for fault in self._faults]

    def clear(self) -> int:
        with self._lock:
            count = len(self._faults)
            self._faults.clear()
            return count


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_LIMIT)

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def list(self, *, path_regex: str | None = None, method: str | None = None) -> list[dict[str, Any]]:
        pattern = re.compile(path_regex) if path_regex else None
        wanted = method.upper() if method else None
        with self._lock:
            entries = list(self._entries)
        return [
            entry
            for entry in entries
            if (wanted is None or entry["method"] == wanted)
            and (pattern is None or pattern.search(entry["path"]) is not None)
        ]

    def clear(self) -> int:
        with self._lock:
            count = len(self._entries)
            self._entries.clear()
            return count
