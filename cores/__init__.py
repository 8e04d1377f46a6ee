"""The pure cores, the bottom floor: no Django, plain dataclasses in and out.

- ``cores.intervals``: the interval maths both cores share (half-open spans of datetimes or
  minutes), and the slot search's ``Interval`` of aware datetimes.
- ``cores.calendar`` and ``cores.slots``: weekly working hours expanded in a clinic's time zone,
  and the search for start times at which every required resource is free.
- ``cores.solver``: the OR-Tools CP-SAT planning models (offers, batch plans, re-plans).

They import only the standard library, python-dateutil, OR-Tools and each other;
``tests/cores/test_purity.py`` and ruff's banned-import rule (TID251) hold them to that.
"""
