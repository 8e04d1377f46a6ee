"""Free time after random existing bookings, shared by the solver benchmarks."""

import random

DAY = 1440


def fragmented_day(
    rng: random.Random, day: int, hours: tuple[int, int], booked: float
) -> list[tuple[int, int]]:
    """Free blocks of one working day after random existing bookings (15-minute grid)."""
    start, end = day * DAY + hours[0], day * DAY + hours[1]
    free: list[tuple[int, int]] = []
    cursor = start
    while cursor < end:
        if rng.random() < booked:
            cursor += 15 * rng.randint(2, 6)
        else:
            length = 15 * rng.randint(1, 5)
            free.append((cursor, min(end, cursor + length)))
            cursor += length
    return free
