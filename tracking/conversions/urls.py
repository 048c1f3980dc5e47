from django.urls import path

from tracking.conversions import views

urlpatterns = [
    path("p/<int:offer_id>.gif", views.pixel, name="conversion-pixel"),
]
