from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("u/<text:username>/", views.profile, name="profile"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/signup/sent/", views.signup_sent, name="signup_sent"),
    # Links mailed by the former two-step sign-up: a page saying to sign up again.
    path("accounts/signup/confirm/<str:token>/", views.signup_confirm, name="signup_confirm"),
    path("accounts/verify/resend/", views.email_verify_resend, name="email_verify_resend"),
    path("accounts/verify/<str:token>/", views.email_verify_view, name="email_verify"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/settings/", views.settings_view, name="settings"),
    path("accounts/delete/", views.account_delete, name="delete"),
    path("accounts/export/", views.export_request, name="export"),
    path("accounts/export/<str:token>/", views.export_download, name="export_download"),
    path("accounts/email/confirm/<str:token>/", views.email_confirm, name="email_confirm"),
    path("accounts/token/", views.api_token, name="api_token"),
    path("accounts/token/reset/", views.api_token_reset, name="api_token_reset"),
    path("accounts/password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
]
