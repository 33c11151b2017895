from django.urls import path

from mutualise.core import account_views, views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in/", views.SignInView.as_view(), name="sign-in"),
    path("sign-in/security-code/", account_views.two_factor_verify, name="two-factor-verify"),
    path("sign-out/", views.SignOutView.as_view(), name="sign-out"),
    path("account/", account_views.account, name="account"),
    path("account/two-factor/set-up/", account_views.two_factor_setup, name="two-factor-setup"),
    path(
        "account/two-factor/recovery-codes/",
        account_views.two_factor_recovery_codes,
        name="two-factor-recovery-codes",
    ),
    path(
        "account/two-factor/turn-off/",
        account_views.two_factor_turn_off,
        name="two-factor-turn-off",
    ),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("privacy/", views.privacy, name="privacy"),
    path("health/", views.health, name="health"),
]
