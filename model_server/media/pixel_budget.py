"""How many decoded pixels may be held at once across the loader threads, the detector and the
writer. Without it, a small zip of 88-megapixel photos fills every stage of the pipeline with
huge images at once (0.9 GB -> 4.1 GB seen); with it, huge photos go through one or two at a time.
"""

from __future__ import annotations

import threading


class PixelBudget:
    """Images take their share in the order they were queued (a ticket each), so a huge image
    never waits behind later ones that it must itself get past: the pipeline cannot deadlock.
    An image larger than the whole budget goes through alone."""

    def __init__(self, limit: int) -> None:
        self.limit, self.used = limit, 0
        self._turn = 0
        self._closed = False
        self._cond = threading.Condition()

    def acquire(self, ticket: int, pixels: int) -> None:
        with self._cond:
            self._cond.wait_for(
                lambda: (
                    self._closed
                    or (
                        self._turn == ticket
                        and (self.used == 0 or self.used + pixels <= self.limit)
                    )
                )
            )
            self.used += pixels
            self._turn += 1
            self._cond.notify_all()

    def pass_turn(self, ticket: int) -> None:
        """For an image that failed before it needed any pixels."""
        with self._cond:
            self._cond.wait_for(lambda: self._closed or self._turn == ticket)
            self._turn += 1
            self._cond.notify_all()

    def release(self, pixels: int) -> None:
        with self._cond:
            self.used -= pixels
            self._cond.notify_all()

    def close(self) -> None:
        """The batch is ending (done, cancelled or failed): nobody waits any more."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
