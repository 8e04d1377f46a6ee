from booking.calendars import _merged


def test_merged_joins_overlapping_and_touching_spans_per_resource():
    rows = [
        (1, 0.0, 10.0),
        (1, 5.0, 8.0),
        (1, 10.0, 12.0),
        (1, 20.0, 30.0),
        (2, 11.0, 15.0),
        (2, 15.5, 16.0),
    ]
    assert list(_merged(rows)) == [
        (1, 0.0, 12.0),
        (1, 20.0, 30.0),
        (2, 11.0, 15.0),
        (2, 15.5, 16.0),
    ]


def test_merged_of_nothing_is_nothing():
    assert list(_merged([])) == []
