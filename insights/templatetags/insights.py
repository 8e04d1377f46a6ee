"""For the site's header: whether to offer the link to the leaders' statistics."""

from django import template

from access.users import AnyUser
from insights import selectors

register = template.Library()


@register.simple_tag
def may_view_statistics(user: AnyUser) -> bool:
    return user.is_authenticated and selectors.may_view_statistics(user)
