"""The user a selector is asked about: a logged-in user, or the anonymous one, who may see
nothing."""

from django.contrib.auth.models import AnonymousUser, User

AnyUser = User | AnonymousUser
