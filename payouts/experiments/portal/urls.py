from django.urls import path

from payouts.experiments.portal import views

app_name = "experiments_portal"

urlpatterns = [
    path("ab-tests/", views.ab_tests, name="ab-tests"),
    path("ab-tests/new/", views.ab_test_new, name="ab-test-new"),
    path("ab-tests/<int:test_id>/", views.ab_test, name="ab-test"),
    path("ab-tests/<int:test_id>/<str:verb>/", views.ab_test_act, name="ab-test-act"),
    path("ab-tests/decisions/<int:decision_id>/undo/", views.ab_decision_undo, name="ab-decision-undo"),
    path("budget-shifts/", views.budget_shifts, name="budget-shifts"),
    path("budget-shifts/settings/", views.budget_shift_settings, name="budget-shift-settings"),
    path("budget-shifts/propose/", views.budget_shifts_propose, name="budget-shifts-propose"),
    path("budget-shifts/<int:shift_id>/<str:verb>/", views.budget_shift_act, name="budget-shift-act"),
]
