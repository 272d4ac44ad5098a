"""What a camera check found, in one shape for the API, the ecology page's timeline and its
buttons: a sentence, and where it applies, the span a person may record as an operation gap
(a covered lens, a changed view) or the period and shift a clock correction would apply."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Finding:
    kind: str  # clock | future | before-set-up | backwards | black | white | view
    text: str
    start: datetime | None = None  # a span to record as an operation gap, camera clock
    end: datetime | None = None
    period: int | None = None  # the deployment period a clock correction would fix
    shift_hours: int = 0  # the shift it would add

    @property
    def gap(self) -> bool:
        return self.start is not None and self.end is not None and self.end > self.start

    def public(self) -> dict[str, Any]:
        found: dict[str, Any] = {"kind": self.kind, "text": self.text}
        if self.gap:
            assert self.start is not None and self.end is not None
            found["gap"] = {
                "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "reason": self.text[:200],
            }
        if self.period is not None:
            found["correction"] = {"period": self.period, "shift_hours": self.shift_hours}
        return found
