# Nynorsk: "tysdag 8. desember 2026", "kl. 14.45".
DATE_FORMAT = "l j. F Y"
SHORT_DATE_FORMAT = "d.m.Y"
TIME_FORMAT = "H.i"
DATETIME_FORMAT = "l j. F Y \\k\\l. H.i"
MONTH_DAY_FORMAT = "l j. F"
DECIMAL_SEPARATOR = ","
THOUSAND_SEPARATOR = "\xa0"
FIRST_DAY_OF_WEEK = 1
