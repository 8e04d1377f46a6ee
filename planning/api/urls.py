from django.urls import path

from planning.api import views

urlpatterns = [
    path("booking-tasks/", views.BookingTaskListView.as_view(), name="booking-task-list"),
    path(
        "booking-tasks/<int:pk>/", views.BookingTaskDetailView.as_view(), name="booking-task-detail"
    ),
    path(
        "booking-tasks/<int:pk>/offers/",
        views.BookingTaskOffersView.as_view(),
        name="booking-task-offers",
    ),
    path(
        "booking-tasks/<int:pk>/choose/",
        views.BookingTaskChooseView.as_view(),
        name="booking-task-choose",
    ),
    path(
        "booking-tasks/<int:pk>/accept/",
        views.BookingTaskAcceptView.as_view(),
        name="booking-task-accept",
    ),
    path("staff/referrals/", views.StaffReferralListView.as_view(), name="staff-referral-list"),
    path(
        "staff/referrals/<int:pk>/",
        views.StaffReferralDetailView.as_view(),
        name="staff-referral-detail",
    ),
    path(
        "staff/booking-tasks/",
        views.StaffBookingTaskListView.as_view(),
        name="staff-booking-task-list",
    ),
    path(
        "staff/booking-tasks/<int:pk>/",
        views.StaffBookingTaskDetailView.as_view(),
        name="staff-booking-task-detail",
    ),
    path(
        "staff/booking-tasks/<int:pk>/cancel/",
        views.StaffBookingTaskCancelView.as_view(),
        name="staff-booking-task-cancel",
    ),
    path(
        "staff/booking-tasks/<int:pk>/offers/",
        views.StaffBookingTaskOffersView.as_view(),
        name="staff-booking-task-offers",
    ),
    path(
        "staff/clinics/<int:pk>/batch-plans/",
        views.StaffBatchPlanView.as_view(),
        name="staff-batch-plan",
    ),
    path("staff/absences/<int:pk>/replan/", views.StaffReplanView.as_view(), name="staff-replan"),
    path("staff/plans/", views.StaffPlanListView.as_view(), name="staff-plan-list"),
    path("staff/plans/<int:pk>/", views.StaffPlanDetailView.as_view(), name="staff-plan-detail"),
    path(
        "staff/plans/<int:pk>/apply/", views.StaffPlanApplyView.as_view(), name="staff-plan-apply"
    ),
    path(
        "staff/plans/<int:pk>/discard/",
        views.StaffPlanDiscardView.as_view(),
        name="staff-plan-discard",
    ),
]
