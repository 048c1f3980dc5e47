from django.urls import path

from payouts.incrementality.portal import views

app_name = "incrementality_portal"

urlpatterns = [
    path("holdout-tests/", views.holdouts, name="holdouts"),
    path("holdout-tests/new/", views.holdout_new, name="holdout-new"),
    path("holdout-tests/<int:test_id>/", views.holdout, name="holdout"),
    path("holdout-tests/<int:test_id>/stop/", views.holdout_stop, name="holdout-stop"),
]
