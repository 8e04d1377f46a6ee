"""Read-only structures derived from an Instance and shared by all solver entry points.

Resources with the same kind, tags and effective free time are merged into a *pool*; the
models count units per pool and turn units back into resource ids at the end
(``assign.assign_members``). Clinicians usually each form a pool of one; rooms with the same
opening hours form one pool, which keeps the models small. A resource that someone prefers,
or that an appointment being re-planned had, is a pool of its own: the scores and costs count
whether an item gets *that* resource, which units of a shared pool cannot tell.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cores.intervals import block_containing, subtract_spans
from cores.solver.allocation import first_allocation
from cores.solver.domain import Absence, Appointment, AppointmentType, Instance, Minutes, TimeModel


@dataclass(frozen=True, slots=True)
class Pool:
    index: int
    kind: str
    tags: frozenset[str]
    member_ids: tuple[str, ...]
    free: tuple[Minutes, ...]
    free_starts: tuple[int, ...]

    @property
    def size(self) -> int:
        return len(self.member_ids)

    def block_of(self, span: Minutes) -> Minutes | None:
        """The free block holding ``span`` entirely, or None when the pool is not free."""
        return block_containing(self.free, self.free_starts, span)


@dataclass(frozen=True, slots=True)
class StartTable:
    """For one appointment type and grid: every start at which the required resources are
    free (ignoring other new bookings), and per requirement the pools free at that start.
    """

    type: AppointmentType
    grid: int
    starts: tuple[int, ...]
    pools_at: dict[int, tuple[tuple[int, ...], ...]]


class PlanningContext:
    """Pools, eligibility and start tables for one solve.

    ``absences`` are removed from free time; appointments in ``released_ids`` are treated as
    not booked (they are the ones being re-planned), every other appointment occupies its
    resources and its patient.
    """

    def __init__(
        self,
        instance: Instance,
        *,
        absences: Sequence[Absence] = (),
        released_ids: Iterable[str] = (),
    ) -> None:
        self.instance = instance
        self.time: TimeModel = instance.time
        self.types: dict[str, AppointmentType] = instance.type_by_id()
        released = frozenset(released_ids)
        self.booked: tuple[Appointment, ...] = tuple(
            a for a in instance.appointments if a.id not in released
        )
        self.pools: tuple[Pool, ...] = self._build_pools(absences, self._singled_out(released))
        self.pool_of_resource: dict[str, int] = {
            member: pool.index for pool in self.pools for member in pool.member_ids
        }
        self._patient_busy = self._build_patient_busy()
        self._eligible: dict[tuple[str, int], tuple[int, ...]] = {}
        self._tables: dict[tuple[str, int], StartTable] = {}
        self._edges: dict[str, dict[tuple[int, int], int]] = {}
        self._potential: dict[tuple[str, frozenset[str]], dict[int, int]] = {}

    def _singled_out(self, released: frozenset[str]) -> frozenset[str]:
        """Resources that must not share a pool: preferred ones and the old resources of the
        released appointments."""
        ids: set[str] = set()
        for task in self.instance.tasks:
            ids |= task.preferences.resource_ids
        for appointment in self.instance.appointments:
            ids |= appointment.preferences.resource_ids
            if appointment.id in released:
                ids.update(appointment.resource_ids)
        return frozenset(ids)

    def _build_pools(
        self, absences: Sequence[Absence], singled_out: frozenset[str]
    ) -> tuple[Pool, ...]:
        busy: dict[str, list[Minutes]] = defaultdict(list)
        for absence in absences:
            busy[absence.resource_id].append((absence.start, absence.end))
        for appointment in self.booked:
            span = self.types[appointment.type_id].resource_span(appointment.start)
            for resource_id in appointment.resource_ids:
                busy[resource_id].append(span)
        groups: dict[tuple[str, frozenset[str], tuple[Minutes, ...], str], list[str]] = {}
        for resource in self.instance.resources:
            free = tuple(subtract_spans(resource.free, busy.get(resource.id, ())))
            alone = resource.id if resource.id in singled_out else ""
            groups.setdefault((resource.kind, resource.tags, free, alone), []).append(resource.id)
        return tuple(
            Pool(index, kind, tags, tuple(members), free, tuple(s for s, _ in free))
            for index, ((kind, tags, free, _), members) in enumerate(groups.items())
        )

    def _build_patient_busy(self) -> dict[str, tuple[Minutes, ...]]:
        busy: dict[str, list[Minutes]] = defaultdict(list)
        for appointment in self.booked:
            busy[appointment.patient_id].append(
                self.types[appointment.type_id].patient_span(appointment.start)
            )
        return {patient: tuple(spans) for patient, spans in busy.items()}

    def patient_busy(self, patient_id: str) -> tuple[Minutes, ...]:
        return self._patient_busy.get(patient_id, ())

    def eligible_pools(self, type_id: str, requirement_index: int) -> tuple[int, ...]:
        key = (type_id, requirement_index)
        if key not in self._eligible:
            requirement = self.types[type_id].requirements[requirement_index]
            self._eligible[key] = tuple(
                p.index for p in self.pools if requirement.matches(p.kind, p.tags)
            )
        return self._eligible[key]

    def matching_resource_count(self, type_id: str, requirement_index: int) -> int:
        return sum(self.pools[p].size for p in self.eligible_pools(type_id, requirement_index))

    def pools_free_at(self, type_id: str, start: int) -> tuple[tuple[int, ...], ...] | None:
        """Per requirement the pools free over the resource span, or None if not enough."""
        appointment_type = self.types[type_id]
        span = appointment_type.resource_span(start)
        per_requirement: list[tuple[int, ...]] = []
        for index, requirement in enumerate(appointment_type.requirements):
            pools = tuple(
                p for p in self.eligible_pools(type_id, index) if self.pools[p].block_of(span)
            )
            if sum(self.pools[p].size for p in pools) < requirement.count:
                return None
            per_requirement.append(pools)
        counts = [r.count for r in appointment_type.requirements]
        if first_allocation(per_requirement, counts, self.pool_size) is None:
            return None
        return tuple(per_requirement)

    def pool_size(self, pool: int) -> int:
        return self.pools[pool].size

    def start_table(self, type_id: str, grid: int) -> StartTable:
        key = (type_id, grid)
        if key not in self._tables:
            self._tables[key] = self._build_table(type_id, grid)
        return self._tables[key]

    def _build_table(self, type_id: str, grid: int) -> StartTable:
        appointment_type = self.types[type_id]
        requirements = appointment_type.requirements
        free_pools: dict[int, list[list[int]]] = defaultdict(lambda: [[] for _ in requirements])
        for index in range(len(requirements)):
            for pool in self.eligible_pools(type_id, index):
                for start in self.pool_starts(pool, appointment_type, grid):
                    free_pools[start][index].append(pool)
        counts = [r.count for r in requirements]
        single = all(count == 1 for count in counts) and self.requirements_disjoint(type_id)
        sizes = [pool.size for pool in self.pools]
        pools_at: dict[int, tuple[tuple[int, ...], ...]] = {}
        for start in sorted(free_pools):
            per_requirement = free_pools[start]
            if single:
                if not all(per_requirement):
                    continue
            elif not self._jointly_free(per_requirement, counts, sizes):
                continue
            pools_at[start] = tuple(tuple(pools) for pools in per_requirement)
        return StartTable(appointment_type, grid, tuple(pools_at), pools_at)

    def _jointly_free(
        self, per_requirement: list[list[int]], counts: list[int], sizes: list[int]
    ) -> bool:
        if not all(
            sum(sizes[p] for p in pools) >= count
            for pools, count in zip(per_requirement, counts, strict=True)
        ):
            return False
        return first_allocation(per_requirement, counts, self.pool_size) is not None

    def requirements_disjoint(self, type_id: str) -> bool:
        """True when no pool can serve two requirements of the type (the common case), so
        every requirement can be met on its own.
        """
        seen: set[int] = set()
        for index in range(len(self.types[type_id].requirements)):
            pools = set(self.eligible_pools(type_id, index))
            if pools & seen:
                return False
            seen |= pools
        return True

    def pool_starts(self, pool: int, appointment_type: AppointmentType, grid: int) -> list[int]:
        """Grid starts whose resource span fits inside one free block of the pool."""
        before = appointment_type.buffer_before
        after = appointment_type.duration + appointment_type.buffer_after
        starts: list[int] = []
        for block_start, block_end in self.pools[pool].free:
            starts.extend(self.time.grid_starts(block_start + before, block_end - after, grid))
        return starts

    def compact_edges(self, type_id: str, pool: int, start: int) -> int:
        """0-2: how many ends of the resource span at ``start`` touch an end of the pool's
        free block (a booking there keeps the rest of the block in one piece).
        """
        edges = self._edges.get(type_id)
        if edges is None:
            edges = self._edges[type_id] = self._build_edges(self.types[type_id])
        return edges.get((start, pool), 0)

    def edge_potential(self, type_id: str, kinds: frozenset[str]) -> dict[int, int]:
        """Start -> the most block edges any pool of ``kinds`` touches there (only starts > 0)."""
        key = (type_id, kinds)
        if key not in self._potential:
            self.compact_edges(type_id, 0, 0)
            potential: dict[int, int] = {}
            for (start, pool), edges in self._edges[type_id].items():
                if edges and self.pools[pool].kind in kinds:
                    potential[start] = max(potential.get(start, 0), edges)
            self._potential[key] = potential
        return self._potential[key]

    def _build_edges(self, appointment_type: AppointmentType) -> dict[tuple[int, int], int]:
        before = appointment_type.buffer_before
        after = appointment_type.duration + appointment_type.buffer_after
        edges: dict[tuple[int, int], int] = {}
        pools = {
            pool
            for index in range(len(appointment_type.requirements))
            for pool in self.eligible_pools(appointment_type.id, index)
        }
        for pool in pools:
            for block_start, block_end in self.pools[pool].free:
                if block_end - block_start < before + after:
                    continue
                for start in {block_start + before, block_end - after}:
                    edges[(start, pool)] = int(start - before == block_start) + int(
                        start + after == block_end
                    )
        return edges
