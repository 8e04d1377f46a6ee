from typing import TypeVar

from django.db.models import Model, QuerySet

from access.errors import NotFound

M = TypeVar("M", bound=Model)


def first_or_not_found(queryset: QuerySet[M]) -> M:
    """The first row of what the user may see, or NotFound: told apart from an id that does
    not exist by no one."""
    found = queryset.first()
    if found is None:
        raise NotFound
    return found
