"""What is left of a planning call's ``time_limit_s``.

Without ``SolveParams.deterministic`` the budget is wall-clock time since the call began: every
step asks the clock, so the whole call (model building included) ends close to the limit, and
a faster or quieter machine searches further.

With ``deterministic`` the clock is never read to decide anything, so that the same input
gives the same plan on any machine under any load. Work is counted instead: building a model
is charged by its size (``BUILD_SECONDS_PER_TERM`` per variable and constraint term, about what
it costs on one core of a current machine), and CP-SAT runs on its deterministic time (its own
count of work, in units of about a second). The call then takes as long as that work takes: on
a busy or slow machine longer than ``time_limit_s``, as there is no wall-clock stop.
"""

from __future__ import annotations

import time

from cores.solver.domain import SolveParams

# Charged per model term in deterministic mode: candidate search, the greedy plan and writing
# the proto cost about 8 us per term on one core of the machine this was measured on (2025).
BUILD_SECONDS_PER_TERM = 10e-6


class Budget:
    """Seconds left of a limit: measured on the clock, or counted as charged work."""

    def __init__(
        self,
        limit_s: float,
        deterministic: bool,
        *,
        started_at: float | None = None,
        parent: Budget | None = None,
    ) -> None:
        self.limit_s = limit_s
        self.deterministic = deterministic
        self.started_at = time.perf_counter() if started_at is None else started_at
        self._spent = 0.0
        self._parent = parent

    @classmethod
    def for_call(cls, params: SolveParams, started_at: float) -> Budget:
        return cls(params.time_limit_s, params.deterministic, started_at=started_at)

    def remaining(self) -> float:
        if self.deterministic:
            return self.limit_s - self._spent
        return self.limit_s - (time.perf_counter() - self.started_at)

    def charge(self, work_s: float) -> None:
        """Count work done (deterministic mode only; the clock counts it otherwise)."""
        self._spent += work_s
        if self._parent is not None:
            self._parent.charge(work_s)

    def part(self, limit_s: float) -> Budget:
        """A budget of at most ``limit_s`` taken out of this one (what it spends, this one
        has spent)."""
        return Budget(min(limit_s, self.remaining()), self.deterministic, parent=self)
