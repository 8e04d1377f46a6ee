from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # booking writes what its followers derive from each change, in the change's own
        # transaction (booking.followers): here, the notices and reminders.
        from booking.followers import follow
        from notifications.services import notices_for_change

        follow(notices_for_change)
