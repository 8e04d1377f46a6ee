"""How the dashboard's figures are shown: which figures the page has and in what order, the
numbers in the user's language ("12,5 %", "3. des. 2026", "uke 49 2026"), the charts' inputs,
and the rows of the CSV export. The page and the CSV read the same `Dashboard`
(figures.dashboard), so they show the same numbers; nothing here counts anything."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.utils import formats
from django.utils.functional import Promise
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from insights import charts
from insights.figures import (
    Cause,
    Cell,
    Dashboard,
    Figure,
    Resolution,
    Source,
    Unit,
)

# A chart of more days than this is a wall of bars: longer periods are shown per week or month.
MAX_DAY_BUCKETS = 92
TOO_MANY_DAYS = gettext_lazy(
    "Choose weeks or months for a period longer than 92 days: a bar for each day would be "
    "too many to read."
)
CSV_COLUMNS = ("figure", "label", "bucket_start", "value", "count", "base")

CAUSE_FIGURES = tuple(f"replannings_{cause}" for cause in Cause)
SOURCE_FIGURES = tuple(f"booked_by_{source}" for source in Source)
KEY_FIGURE_GROUPS: tuple[tuple[Promise, tuple[str, ...]], ...] = (
    (gettext_lazy("Appointments and attendance"), ("appointments", "no_show_rate")),
    (gettext_lazy("Re-planning"), ("replannings", "replanned_share", "moved_past_planned")),
    (
        gettext_lazy("Offers to choose a time"),
        ("offers_first", "offers_more", "offers_none"),
    ),
    (gettext_lazy("Waitlist"), ("waitlist_fills", "waitlist_days_gained")),
    (
        gettext_lazy("Waiting time and deadlines"),
        (
            "referral_days_median",
            "referral_days_p90",
            "deadline_breaches",
            "deadline_breach_share",
        ),
    ),
    (gettext_lazy("Preparations"), ("preparations_on_time",)),
)
KEY_FIGURES = tuple(key for _group, keys in KEY_FIGURE_GROUPS for key in keys)
# Every figure the page shows, in the order of the page (and of the CSV).
SHOWN = tuple(
    dict.fromkeys([*CAUSE_FIGURES, "replannings", "replanned_share", *SOURCE_FIGURES, *KEY_FIGURES])
)


def default_period(today: date) -> tuple[date, date]:
    """Twelve months: from the first day of the month eleven months back up to today, so the
    current month is the last bar (up to today) and a whole year is in view."""
    return today.replace(day=1) - relativedelta(months=11), today


def too_many_days(first: date, last: date, resolution: Resolution) -> bool:
    return resolution == Resolution.DAY and (last - first).days >= MAX_DAY_BUCKETS


# --- Numbers and dates in the user's language ------------------------------------------------


def number(value: int | float) -> str:
    return formats.number_format(value, force_grouping=True)


def percent(share: float) -> str:
    """A share as a percent with one decimal: "12,5 %" in Norwegian, "12.5%" in English."""
    return _("%(number)s%%") % {"number": formats.number_format(share * 100, 1)}


def axis_count(value: float) -> str:
    return number(round(value))


def axis_percent(share: float) -> str:
    """A percent on a chart's axis: whole where it is whole ("25 %"), else one decimal."""
    hundred = share * 100
    digits = 0 if abs(hundred - round(hundred)) < 1e-9 else 1
    return _("%(number)s%%") % {"number": formats.number_format(hundred, digits)}


def bucket_label(start: date, resolution: Resolution) -> str:
    """The bucket as a person names it: "3. des. 2026", "uke 49 2026", "desember 2026"."""
    if resolution == Resolution.DAY:
        day_format = pgettext("a day in the statistics (date format)", "j M Y")
        return formats.date_format(start, day_format)
    if resolution == Resolution.WEEK:
        year, week, _day = start.isocalendar()
        return _("week %(week)d %(year)d") % {"week": week, "year": year}
    return formats.date_format(start, "YEAR_MONTH_FORMAT")


def period_label(first: date, last: date) -> str:
    """ "3. desember 2026 to 2. januar 2027"."""
    day_format = pgettext("a date in the statistics' period (date format)", "j F Y")
    return _("%(first)s to %(last)s") % {
        "first": formats.date_format(first, day_format),
        "last": formats.date_format(last, day_format),
    }


def axis(buckets: Sequence[date], resolution: Resolution) -> charts.Axis:
    """Short labels along a chart: the day of the month under the month, the week number
    under the year, the month under the year."""
    ticks, contexts = [], []
    for start in buckets:
        if resolution == Resolution.DAY:
            ticks.append(str(start.day))
            contexts.append(formats.date_format(start, "YEAR_MONTH_FORMAT"))
        elif resolution == Resolution.WEEK:
            year, week, _day = start.isocalendar()
            ticks.append(str(week))
            contexts.append(_("weeks of %(year)d") % {"year": year})
        else:
            ticks.append(formats.date_format(start, "N"))
            contexts.append(str(start.year))
    return charts.Axis(ticks=ticks, contexts=contexts)


# --- What a cell shows -----------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """One number as the page shows it: `text`, or a dash when there was nothing to count;
    for a share, `detail` says of how many ("5 of 40"). `figure` and `bucket` name it (the
    bucket's first day, or "" for the whole period)."""

    text: str
    figure: str
    bucket: str = ""
    missing: bool = False
    detail: str = ""


def shown(figure: Figure, cell: Cell, bucket: date | None = None) -> Shown:
    where = bucket.isoformat() if bucket else ""
    if cell.value is None:
        return Shown("–", figure.key, where, missing=True)
    if figure.unit == Unit.SHARE:
        detail = _("%(count)s of %(base)s") % {
            "count": number(cell.count or 0),
            "base": number(cell.base or 0),
        }
        return Shown(percent(float(cell.value)), figure.key, where, detail=detail)
    return Shown(number(cell.value), figure.key, where)


# --- The page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    header: str
    cells: Sequence[Shown]
    total: bool = False


@dataclass(frozen=True)
class Table:
    caption: str
    corner: str  # the heading of the row headers' column
    columns: Sequence[str]
    rows: Sequence[Row]


@dataclass(frozen=True)
class LegendItem:
    label: str
    colour: str


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    definition: str
    chart: SafeString
    legend: Sequence[LegendItem]
    table: Table
    empty: bool  # nothing to count in the whole period


@dataclass(frozen=True)
class KeyGroup:
    title: str
    rows: Sequence[Row]  # each: the whole period first, then each bucket


@dataclass(frozen=True)
class Page:
    period: str
    resolution: str
    appointments: int
    sections: Sequence[Section]
    key_columns: Sequence[str]
    key_groups: Sequence[KeyGroup]


def page(board: Dashboard) -> Page:
    labels = [bucket_label(b, board.scope.resolution) for b in board.buckets]
    return Page(
        period=period_label(board.scope.first, board.scope.last),
        resolution=str(_resolution_name(board.scope.resolution)),
        appointments=board.appointments,
        sections=[
            _causes_section(board, labels),
            _replanned_section(board, labels),
            _self_booking_section(board, labels),
        ],
        key_columns=[_("Whole period"), *labels],
        key_groups=[
            KeyGroup(
                str(title),
                [
                    Row(
                        str(board.figure(key).label),
                        [
                            shown(board.figure(key), board.figure(key).total),
                            *_by_bucket(board, board.figure(key)),
                        ],
                    )
                    for key in keys
                ],
            )
            for title, keys in KEY_FIGURE_GROUPS
        ],
    )


def _resolution_name(resolution: Resolution) -> Promise:
    return {
        Resolution.DAY: gettext_lazy("per day"),
        Resolution.WEEK: gettext_lazy("per week"),
        Resolution.MONTH: gettext_lazy("per month"),
    }[resolution]


def _by_bucket(board: Dashboard, figure: Figure) -> list[Shown]:
    return [shown(figure, cell, b) for cell, b in zip(figure.by_bucket, board.buckets, strict=True)]


def _rows(board: Dashboard, labels: Sequence[str], figures: Sequence[Figure]) -> list[Row]:
    """A row per bucket and one for the whole period, a column per figure."""
    rows = [
        Row(label, [shown(f, f.by_bucket[i], bucket) for f in figures])
        for i, (label, bucket) in enumerate(zip(labels, board.buckets, strict=True))
    ]
    rows.append(Row(_("Whole period"), [shown(f, f.total) for f in figures], total=True))
    return rows


def _causes_section(board: Dashboard, labels: Sequence[str]) -> Section:
    causes = [board.figure(key) for key in CAUSE_FIGURES]
    series = [
        charts.Series(str(f.label), [c.value for c in f.by_bucket], colour)
        for f, colour in zip(causes, charts.PALETTE, strict=True)
    ]
    title = _("Re-plannings by cause")
    table_figures = [*causes, board.figure("replannings")]
    return Section(
        key="causes",
        title=title,
        definition=_(
            "Each time an appointment of the period was moved or cancelled, whenever that "
            "happened, counted by why. Taking an earlier time from the waitlist is not a "
            "re-planning. Late means less than the appointment type's change deadline before "
            "the time."
        ),
        chart=charts.stacked_bars(
            chart_id="chart-causes",
            title=title,
            description=_(
                "Stacked bars %(resolution)s: the number of re-plannings, split by cause. "
                "In all: %(total)s."
            )
            % {
                "resolution": _resolution_name(board.scope.resolution),
                "total": number(board.figure("replannings").total.value or 0),
            },
            axis=axis(board.buckets, board.scope.resolution),
            series=series,
            format_value=axis_count,
        ),
        legend=[LegendItem(s.label, s.colour) for s in series],
        table=Table(
            caption=_("Re-plannings by cause, %(resolution)s")
            % {"resolution": _resolution_name(board.scope.resolution)},
            corner=_("Period"),
            columns=[*(str(f.label) for f in causes), _("In all")],
            rows=_rows(board, labels, table_figures),
        ),
        empty=board.appointments == 0,
    )


def _replanned_section(board: Dashboard, labels: Sequence[str]) -> Section:
    figure = board.figure("replanned_share")
    title = _("Share of appointments re-planned")
    total = figure.total
    return Section(
        key="replanned",
        title=title,
        definition=_(
            "The appointments of the period that were moved or cancelled at least once (a "
            "re-planning, as above), over all the period's appointments."
        ),
        chart=charts.line(
            chart_id="chart-replanned",
            title=title,
            description=_(
                "A line %(resolution)s: the share of appointments re-planned. In all: %(share)s."
            )
            % {
                "resolution": _resolution_name(board.scope.resolution),
                "share": percent(float(total.value)) if total.value is not None else "–",
            },
            axis=axis(board.buckets, board.scope.resolution),
            series=charts.Series(
                str(figure.label), [c.value for c in figure.by_bucket], charts.PALETTE[0]
            ),
            format_value=axis_percent,
        ),
        legend=[LegendItem(str(figure.label), charts.PALETTE[0])],
        table=Table(
            caption=_("Share of appointments re-planned, %(resolution)s")
            % {"resolution": _resolution_name(board.scope.resolution)},
            corner=_("Period"),
            columns=[_("Share re-planned")],
            rows=_rows(board, labels, [figure]),
        ),
        empty=board.appointments == 0,
    )


def _self_booking_section(board: Dashboard, labels: Sequence[str]) -> Section:
    sources = [board.figure(key) for key in SOURCE_FIGURES]
    colours = (charts.PALETTE[0], charts.PALETTE[1], charts.PALETTE[5])
    series = [
        charts.Series(str(f.label), [c.value for c in f.by_bucket], colour)
        for f, colour in zip(sources, colours, strict=True)
    ]
    title = _("Who set the appointment's first time")
    patient = sources[0].total
    return Section(
        key="self-booking",
        title=title,
        definition=_(
            "Of the period's appointments, the share whose first time was chosen by the patient "
            "(or someone acting for them) online, set by the clinic, or set by the batch planner."
        ),
        chart=charts.stacked_bars(
            chart_id="chart-self-booking",
            title=title,
            description=_(
                "Stacked bars %(resolution)s of shares adding up to 100%%: who set the first "
                "time. Chosen by the patient in all: %(share)s."
            )
            % {
                "resolution": _resolution_name(board.scope.resolution),
                "share": percent(float(patient.value)) if patient.value is not None else "–",
            },
            axis=axis(board.buckets, board.scope.resolution),
            series=series,
            format_value=axis_percent,
            whole=False,
            top=1,
        ),
        legend=[LegendItem(s.label, s.colour) for s in series],
        table=Table(
            caption=_("Who set the first time, %(resolution)s")
            % {"resolution": _resolution_name(board.scope.resolution)},
            corner=_("Period"),
            columns=[str(f.label) for f in sources],
            rows=_rows(board, labels, sources),
        ),
        empty=board.appointments == 0,
    )


# --- The CSV export --------------------------------------------------------------------------


def csv_value(figure: Figure, cell: Cell) -> str:
    """Shares raw to four decimals, counts and days whole, nothing where there is nothing."""
    if cell.value is None:
        return ""
    if figure.unit == Unit.SHARE:
        return f"{cell.value:.4f}"
    return str(int(cell.value))


def csv_rows(board: Dashboard) -> Iterator[list[str]]:
    """What the page shows: each figure per bucket, then its whole period (no bucket)."""
    yield list(CSV_COLUMNS)
    for key in SHOWN:
        figure = board.figure(key)
        label = str(figure.label)
        cells = [*zip(board.buckets, figure.by_bucket, strict=True), (None, figure.total)]
        for bucket, cell in cells:
            yield [
                figure.key,
                label,
                bucket.isoformat() if bucket else "",
                csv_value(figure, cell),
                "" if cell.count is None else str(cell.count),
                "" if cell.base is None else str(cell.base),
            ]


def csv_text(board: Dashboard) -> str:
    """The export as text, with the byte order mark Excel needs to read UTF-8."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(csv_rows(board))
    return out.getvalue()
