from django.urls import path

from tracking.portal import advertiser, console, marketplace, policy, smartlinks, views

app_name = "tracking_portal"

urlpatterns = [
    path("advertiser/offers/", advertiser.adv_offers, name="adv-offers"),
    path("advertiser/publishers/", advertiser.adv_publishers, name="adv-publishers"),
    path("publisher/offers/", marketplace.marketplace, name="pub-marketplace"),
    path("publisher/conversions/", views.pub_conversions, name="pub-conversions"),
    path("advertiser/conversions/", views.adv_conversions, name="adv-conversions"),
    path("advertiser/integration/", views.adv_integration, name="adv-integration"),
    path("conversions/<int:conversion_id>/", views.conversion_detail, name="conversion"),
    path("staff/fraud/", console.staff_fraud, name="staff-fraud"),
    path("staff/conversions/", console.staff_conversions, name="staff-conversions"),
    path("smart-links/", smartlinks.smart_links, name="smart-links"),
    path("smart-links/new/", smartlinks.smart_link_new, name="smart-link-new"),
    path("smart-links/<int:smart_id>/", smartlinks.smart_link_detail, name="smart-link"),
    path("smart-links/<int:smart_id>/weights/", smartlinks.smart_link_weights, name="smart-link-weights"),
    path(
        "smart-links/<int:smart_id>/paths/<int:path_id>/toggle/",
        smartlinks.smart_path_toggle,
        name="smart-path-toggle",
    ),
    path("policy/", policy.policy_page, name="policy"),
    path("policy/upload/", policy.policy_upload, name="policy-upload"),
    path("policy/entries/<int:entry_id>/delete/", policy.policy_entry_delete, name="policy-entry-delete"),
    path("policy/caps/", policy.policy_cap_set, name="policy-cap-set"),
    path("policy/caps/<int:cap_id>/delete/", policy.policy_cap_delete, name="policy-cap-delete"),
    path("policy/templates/", policy.policy_template_save, name="policy-template-save"),
    path("policy/naming/<int:template_id>/", policy.naming_report_page, name="naming-report"),
]
