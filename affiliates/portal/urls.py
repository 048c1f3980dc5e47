from django.urls import path

from affiliates.portal import views_account as account
from affiliates.portal import views_advertiser as adv
from affiliates.portal import views_audit as audit
from affiliates.portal import views_auth as auth
from affiliates.portal import views_console as console
from affiliates.portal import views_console_offers as console_offers
from affiliates.portal import views_notifications as notes
from affiliates.portal import views_publisher as pub
from affiliates.portal import views_staff as staff
from affiliates.portal import views_staff_users as staff_users
from affiliates.portal import views_team as team

app_name = "portal"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.LoginView.as_view(), name="login"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("signup/", auth.signup, name="signup"),
    path("pending/", auth.pending, name="pending"),
    path("password-reset/", auth.password_reset, name="password-reset"),
    path("password-reset/sent/", auth.password_reset_done, name="password-reset-done"),
    path("password-reset/<uidb64>/<token>/", auth.password_reset_confirm, name="password-reset-confirm"),
    path("password-reset/done/", auth.password_reset_complete, name="password-reset-complete"),
    path("account/password/", auth.password_change, name="password-change"),
    path("account/notifications/", notes.notifications, name="notifications"),
    path("account/notifications/read/", notes.notifications_read, name="notifications-read"),
    path("account/notifications/settings/", notes.notification_settings, name="notification-settings"),
    path("account/two-factor/", account.otp_manage, name="otp-manage"),
    path("account/two-factor/setup/", account.otp_setup, name="otp-setup"),
    path("account/two-factor/verify/", account.otp_verify, name="otp-verify"),
    path("account/two-factor/recovery-codes/", account.otp_recovery_codes, name="otp-recovery-codes"),
    path("account/two-factor/disable/", account.otp_disable, name="otp-disable"),
    path("account/api-keys/", account.api_keys, name="api-keys"),
    path("account/api-keys/<int:key_id>/revoke/", account.api_key_revoke, name="api-key-revoke"),
    path("account/team/", team.team_page, name="team"),
    path("account/team/invite/", team.team_invite, name="team-invite"),
    path("account/team/members/<int:user_id>/role/", team.team_role, name="team-role"),
    path("account/team/members/<int:user_id>/remove/", team.team_remove, name="team-remove"),
    path("account/team/invites/<int:invite_id>/revoke/", team.team_invite_revoke, name="team-invite-revoke"),
    path("team/accept/<str:token>/", team.team_accept, name="team-accept"),
    # publisher
    path("publisher/offers/<int:offer_id>/", pub.offer_detail, name="pub-offer"),
    path("publisher/offers/<int:offer_id>/apply/", pub.apply_quick, name="pub-apply"),
    path("publisher/my-offers/", pub.my_offers, name="pub-my-offers"),
    path("publisher/my-offers/<int:access_id>/", pub.my_offer, name="pub-my-offer"),
    path("publisher/profile/", pub.profile, name="pub-profile"),
    path("publisher/audit/", audit.publisher_audit, name="pub-audit"),
    # advertiser
    path("advertiser/offers/new/", adv.offer_create, name="adv-offer-new"),
    path("advertiser/offers/<int:offer_id>/", adv.offer_edit, name="adv-offer-edit"),
    path("advertiser/access/<int:access_id>/decide/", adv.access_decision, name="adv-access-decide"),
    path("advertiser/access/<int:access_id>/remove/", adv.access_revoke_page, name="adv-access-revoke"),
    path("advertiser/audit/", audit.advertiser_audit, name="adv-audit"),
    path("advertiser/settings/", adv.account_settings, name="adv-settings"),
    # network staff
    path("staff/publishers/", staff.publisher_queue, name="staff-publishers"),
    path(
        "staff/publishers/<int:publisher_id>/decide/", staff.publisher_decision, name="staff-publisher-decide"
    ),
    path("staff/access/", staff.access_queue, name="staff-access"),
    path("staff/access/<int:access_id>/decide/", staff.access_decision, name="staff-access-decide"),
    # the staff console's partner lists and the actions its detail pages post
    path("staff/advertisers/", console.advertisers, name="staff-advertisers"),
    path("staff/publishers/all/", console.publishers, name="staff-publisher-list"),
    path("staff/offers/", console.offers, name="staff-offers"),
    path("staff/accesses/", console.accesses, name="staff-accesses"),
    path("staff/fx-rates/", console.fx_rates, name="staff-fx-rates"),
    path("staff/coupons/", console.coupons, name="staff-coupons"),
    path("staff/creatives/", console.creatives, name="staff-creatives"),
    path("staff/advertisers/<int:pk>/<str:action>/", console.advertiser_action, name="staff-advertiser-act"),
    path("staff/publishers/<int:pk>/act/<str:action>/", console.publisher_action, name="staff-publisher-act"),
    path("staff/offers/new/", console_offers.offer_new, name="staff-offer-new"),
    path("staff/offers/<int:pk>/edit/", console_offers.offer_edit, name="staff-offer-edit"),
    path("staff/offers/<int:pk>/<str:action>/", console.offer_action, name="staff-offer-act"),
    path("staff/notes/<str:kind>/<int:pk>/", console.note_add, name="staff-note-add"),
    path("staff/lockouts/", staff.lockouts, name="staff-lockouts"),
    path("staff/lockouts/reset/", staff.lockout_reset, name="staff-lockout-reset"),
    path("staff/audit/", audit.staff_audit, name="staff-audit"),
    path("staff/users/", staff_users.users, name="staff-users"),
    path(
        "staff/users/<int:user_id>/two-factor/reset/",
        staff_users.twofactor_reset,
        name="staff-twofactor-reset",
    ),
    path("staff/users/<int:user_id>/role/", staff_users.staff_role, name="staff-role"),
    path("staff/users/<int:user_id>/accounts/", staff_users.staff_accounts, name="staff-accounts"),
]
