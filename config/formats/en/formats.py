# English: "Tuesday 8 December 2026", "14:45".
DATE_FORMAT = "l j F Y"
SHORT_DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "l j F Y, H:i"
MONTH_DAY_FORMAT = "l j F"
FIRST_DAY_OF_WEEK = 1
