from django.urls import path

from payouts.portal import views

app_name = "payouts_portal"

urlpatterns = [
    path("publisher/payouts/", views.pub_payouts, name="pub-payouts"),
    path("publisher/payouts/<int:payout_id>/statement.<str:fmt>", views.pub_statement, name="pub-statement"),
    path("publisher/postbacks/", views.pub_callbacks, name="pub-callbacks"),
    path("staff/payout-runs/", views.staff_runs, name="staff-runs"),
    path("staff/payout-runs/<int:run_id>/", views.staff_run, name="staff-run"),
    path("staff/payout-runs/<int:run_id>/progress.json", views.staff_run_progress, name="staff-run-progress"),
    path("staff/payout-runs/<int:run_id>/<str:action>/", views.staff_run_action, name="staff-run-action"),
]
