from django.urls import path

from payouts.portal import (
    attribution,
    console,
    console_pages,
    conversions,
    customers,
    dashboards,
    documents,
    invalid_traffic,
    reports,
    smartlinks,
    views,
    webhooks,
)

app_name = "payouts_portal"

urlpatterns = [
    path("publisher/", dashboards.pub_dashboard, name="pub-home"),
    path("advertiser/", dashboards.adv_dashboard, name="adv-home"),
    path("staff/", console_pages.staff_home, name="staff-home"),
    path("staff/advertisers/<int:pk>/", console_pages.advertiser_page, name="staff-advertiser"),
    path("staff/publishers/<int:pk>/", console_pages.publisher_page, name="staff-publisher"),
    path("staff/offers/<int:pk>/", console_pages.offer_page, name="staff-offer"),
    path("staff/commissions/", console.commissions, name="staff-commissions"),
    path("staff/invoices/", console.documents, name="staff-invoices"),
    path("staff/advertiser-payments/", console.payments, name="staff-payments"),
    path("staff/payouts/", console.payouts, name="staff-payouts"),
    path("reports/", reports.reports, name="reports"),
    path("advertiser/conversions/status/", conversions.set_status, name="set-status"),
    path("advertiser/conversions/upload/", conversions.adv_upload, name="adv-upload"),
    path(
        "smart-links/<int:smart_id>/optimise/", smartlinks.smart_link_optimise_now, name="smart-link-optimise"
    ),
    path("publisher/payouts/", views.pub_payouts, name="pub-payouts"),
    path("publisher/payouts/<int:payout_id>/statement.<str:fmt>", views.pub_statement, name="pub-statement"),
    path("publisher/statements/", documents.pub_statements, name="pub-statements"),
    path("advertiser/invoices/", documents.adv_invoices, name="adv-invoices"),
    path("documents/<int:document_id>.<str:fmt>", documents.document_file, name="document-file"),
    path("staff/documents/", documents.staff_documents, name="staff-documents"),
    path("staff/documents/issue/", documents.staff_issue, name="staff-issue"),
    path("staff/documents/payment/", documents.staff_payment, name="staff-payment"),
    path("customers/", customers.customers, name="customers"),
    path("attribution/", attribution.attribution, name="attribution"),
    path("customers/value-horizon/", customers.value_horizon, name="customers-value-horizon"),
    path(
        "staff/fraud/invalid-traffic/",
        invalid_traffic.staff_invalid_traffic,
        name="staff-invalid-traffic",
    ),
    path("publisher/postbacks/", views.pub_callbacks, name="pub-callbacks"),
    path("webhooks/", webhooks.webhooks_page, name="webhooks"),
    path("webhooks/<int:sub_id>/", webhooks.webhook_page, name="webhook"),
    path("staff/payout-runs/", views.staff_runs, name="staff-runs"),
    path("staff/payout-runs/<int:run_id>/", views.staff_run, name="staff-run"),
    path("staff/payout-runs/<int:run_id>/progress.json", views.staff_run_progress, name="staff-run-progress"),
    path("staff/payout-runs/<int:run_id>/<str:action>/", views.staff_run_action, name="staff-run-action"),
]
