"""An appointment as an iCalendar file (RFC 5545), for the patient's own calendar: the neutral
name patients see, the place, a reminder the day before; never a diagnosis or an identity
number."""

from datetime import timedelta

from icalendar import Alarm, Calendar, Event

from booking.models import Appointment, ContactMode


def appointment_ics(appointment: Appointment, link: str) -> bytes:
    kind = appointment.appointment_type
    event = Event()
    event.add("uid", f"appointment-{appointment.pk}@timevalg")
    event.add("summary", f"{kind.display_name} – {appointment.clinic.name}")
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("dtstamp", appointment.updated_at)
    if kind.contact_mode == ContactMode.IN_PERSON:
        place = ", ".join(p for p in (kind.location, appointment.clinic.address) if p)
        event.add("location", place or appointment.clinic.name)
    event.add("description", link)
    event.add("url", link)
    reminder = Alarm()
    reminder.add("action", "DISPLAY")
    reminder.add("description", kind.display_name)
    reminder.add("trigger", -timedelta(days=1))
    event.add_component(reminder)
    calendar = Calendar()
    calendar.add("prodid", "-//Timevalg//timevalg//NB")
    calendar.add("version", "2.0")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
