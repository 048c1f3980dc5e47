from django.urls import path

from tracking.portal import reports, views

app_name = "tracking_portal"

urlpatterns = [
    path("publisher/conversions/", views.pub_conversions, name="pub-conversions"),
    path("advertiser/conversions/", views.adv_conversions, name="adv-conversions"),
    path("advertiser/conversions/status/", views.set_status, name="set-status"),
    path("advertiser/conversions/upload/", views.adv_upload, name="adv-upload"),
    path("advertiser/integration/", views.adv_integration, name="adv-integration"),
    path("conversions/<int:conversion_id>/", views.conversion_detail, name="conversion"),
    path("staff/fraud/", views.staff_fraud, name="staff-fraud"),
    path("reports/", reports.reports, name="reports"),
]
