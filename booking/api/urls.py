from django.urls import include, path
from rest_framework.routers import SimpleRouter

from booking.api import auth_views, patient_views, staff, staff_appointments

# No API root and no format-suffix variants: every URL of the API is one the access matrix names.
staff_router = SimpleRouter()
staff_router.register("clinics", staff.ClinicViewSet, basename="staff-clinic")
staff_router.register("resources", staff.ResourceViewSet, basename="staff-resource")
staff_router.register("working-hours", staff.WorkingHoursViewSet, basename="staff-working-hours")
staff_router.register("absences", staff.AbsenceViewSet, basename="staff-absence")
staff_router.register(
    "appointment-types", staff.AppointmentTypeViewSet, basename="staff-appointment-type"
)

urlpatterns = [
    path("auth/csrf/", auth_views.CsrfView.as_view(), name="auth-csrf"),
    path("auth/login/", auth_views.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", auth_views.LogoutView.as_view(), name="auth-logout"),
    path("me/", patient_views.MeView.as_view(), name="me"),
    path("patients/", patient_views.PatientListView.as_view(), name="patient-list"),
    path(
        "appointment-types/",
        patient_views.AppointmentTypeListView.as_view(),
        name="appointment-type-list",
    ),
    path(
        "appointment-types/<int:pk>/slots/", patient_views.SlotListView.as_view(), name="slot-list"
    ),
    path("appointments/", patient_views.AppointmentListView.as_view(), name="appointment-list"),
    path(
        "appointments/<int:pk>/",
        patient_views.AppointmentDetailView.as_view(),
        name="appointment-detail",
    ),
    path(
        "appointments/<int:pk>/reschedule/",
        patient_views.AppointmentRescheduleView.as_view(),
        name="appointment-reschedule",
    ),
    path(
        "appointments/<int:pk>/cancel/",
        patient_views.AppointmentCancelView.as_view(),
        name="appointment-cancel",
    ),
    path(
        "preparation-tasks/",
        patient_views.PreparationTaskListView.as_view(),
        name="preparation-task-list",
    ),
    path(
        "preparation-tasks/<int:pk>/",
        patient_views.PreparationTaskDetailView.as_view(),
        name="preparation-task-detail",
    ),
    path(
        "staff/patients/lookup/",
        staff_appointments.StaffPatientLookupView.as_view(),
        name="staff-patient-lookup",
    ),
    path(
        "staff/appointments/",
        staff_appointments.StaffAppointmentListView.as_view(),
        name="staff-appointment-list",
    ),
    path(
        "staff/appointments/<int:pk>/reschedule/",
        staff_appointments.StaffRescheduleView.as_view(),
        name="staff-appointment-reschedule",
    ),
    path(
        "staff/appointments/<int:pk>/cancel/",
        staff_appointments.StaffCancelView.as_view(),
        name="staff-appointment-cancel",
    ),
    path("staff/", include(staff_router.urls)),
]
