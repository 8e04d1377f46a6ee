from django.urls import path

from portal.views import account, appointments, home, profile, tasks

app_name = "portal"

urlpatterns = [
    path("", home.overview, name="overview"),
    path("logg-inn/", account.LoginView.as_view(), name="login"),
    path("logg-ut/", account.logout_view, name="logout"),
    path("sprak/", account.language, name="language"),
    path("for/meg/", account.act_for_self, name="act-for-self"),
    path("for/<int:patient_id>/", account.act_for_view, name="act-for"),
    path("timeoppgaver/<int:task_id>/", tasks.choose, name="task-choose"),
    path("timeoppgaver/<int:task_id>/bekreft/", tasks.confirm, name="task-confirm"),
    path("timeoppgaver/<int:task_id>/behold/", tasks.keep, name="task-keep"),
    path("timer/<int:appointment_id>/", appointments.detail, name="appointment"),
    path(
        "timer/<int:appointment_id>/kalender.ics",
        appointments.calendar_file,
        name="appointment-ics",
    ),
    path("timer/<int:appointment_id>/endre/", appointments.change, name="appointment-change"),
    path(
        "timer/<int:appointment_id>/endre/bekreft/",
        appointments.change_confirm,
        name="appointment-change-confirm",
    ),
    path("timer/<int:appointment_id>/avbestill/", appointments.cancel, name="appointment-cancel"),
    path(
        "timer/<int:appointment_id>/tidligere-time/",
        appointments.waitlist,
        name="appointment-waitlist",
    ),
    path("forberedelser/", profile.preparations, name="preparations"),
    path("forberedelser/<int:task_id>/", profile.preparation_mark, name="preparation-mark"),
    path("tilgjengelighet/", profile.availability, name="availability"),
    path("varsler/", profile.notifications, name="notifications"),
    path("innsyn/", profile.access_log, name="access-log"),
]
