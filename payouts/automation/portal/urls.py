from django.urls import path

from payouts.automation.portal import views

app_name = "automation_portal"

urlpatterns = [
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_new, name="rule-new"),
    path("rules/<int:rule_id>/", views.rule, name="rule"),
    path("rules/<int:rule_id>/edit/", views.rule_edit, name="rule-edit"),
    path("rules/<int:rule_id>/check/", views.rule_check_now, name="rule-check"),
    path("rules/firings/<int:firing_id>/undo/", views.firing_undo, name="firing-undo"),
]
