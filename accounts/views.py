from django.contrib import messages
from django.contrib.auth import SESSION_KEY, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from creations.gallery import gallery_context
from creations.selectors import member_creation_stats
from npu_site.caching import cache_anonymous_page
from npu_site.ratelimit import (
    VERIFICATION_MAIL_LIMITS,
    email_key,
    limits_exceeded,
    rate_limited,
    too_many_requests,
)

from .backends import login_key
from .forms import LoginForm, PasswordResetForm, ProfileForm, SignupForm, SignupPasswordForm
from .models import User
from .selectors import user_with_email
from .services import (
    LINK_INVALID,
    api_token_get_or_create,
    api_token_regenerate,
    email_change_confirm,
    email_change_request,
    signup_request,
    user_create,
    user_password_changed,
    user_update_profile,
)
from .tokens import email_change_token_read, signup_token_read


def _safe_next(request, fallback: str = "/", target: str | None = None) -> str:
    if target is None:
        target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _site_url(request) -> str:
    """This site's scheme and host, for links in mail."""
    return request.build_absolute_uri("/").rstrip("/")


@cache_anonymous_page
def profile(request, username):
    member = get_object_or_404(User, username=username, is_active=True)
    context = gallery_context(request, owner=member)
    return render(
        request,
        "accounts/profile.html",
        {**context, "member": member, "stats": member_creation_stats(member=member)},
        status=context["status"],
    )


@rate_limited(("signup", "ip"), ("verification_mail_address", email_key))
def signup(request):
    """Sign-up, step one: mail a link to the address (see services.signup_request)."""
    if request.user.is_authenticated:
        return redirect("creations:gallery")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        signup_request(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            base_url=_site_url(request),
            next_url=_safe_next(request, ""),
        )
        return redirect("accounts:signup_sent")
    return render(
        request, "registration/signup.html", {"form": form, "next": _safe_next(request, "")}
    )


class SignupSentView(TemplateView):
    template_name = "registration/signup_sent.html"


@never_cache
@sensitive_post_parameters("password1", "password2")
def signup_confirm(request, token):
    """Sign-up, step two, from the mailed link: choose a password; the account is made."""
    details = signup_token_read(token)
    if details is None:
        return render(request, "registration/signup_confirm.html", {"problem": "invalid"})
    username, email = details["username"], details["email"]
    if User.objects.filter(username=username).exists() or user_with_email(email) is not None:
        return render(request, "registration/signup_confirm.html", {"problem": "taken"})
    form = SignupPasswordForm(request.POST or None, username=username, email=email)
    if request.method == "POST" and form.is_valid():
        try:
            user = user_create(
                username=username, email=email, password=form.cleaned_data["password1"]
            )
        except ValidationError:  # taken since the page was shown
            return render(request, "registration/signup_confirm.html", {"problem": "taken"})
        login(request, user, backend="accounts.backends.UsernameOrEmailBackend")
        messages.success(request, f"Welcome to NPU, {user.username}! Share your first creation.")
        return redirect(_safe_next(request, target=details["next"]))
    return render(request, "registration/signup_confirm.html", {"form": form, "username": username})


@method_decorator(rate_limited(("login_ip", "ip"), ("login_username", login_key)), "post")
class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        messages.success(self.request, f"Welcome back, {form.get_user().public_name}.")
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You are logged out.")
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    success_url = reverse_lazy("accounts:settings")

    def form_valid(self, form):
        response = super().form_valid(form)  # this browser stays logged in, on a new key
        user_password_changed(user=form.user, current_session_key=self.request.session.session_key)
        messages.success(
            self.request,
            "Your password is changed. You are logged out everywhere else, and your old API "
            "token no longer works.",
        )
        return response


@method_decorator(
    rate_limited(("password_reset_ip", "ip"), ("password_reset_address", email_key)), "post"
)
class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:login")

    def form_valid(self, form):
        user = form.user
        response = super().form_valid(form)
        # No session of the member survives a reset, this browser's included if it was theirs.
        if self.request.session.get(SESSION_KEY) == str(user.pk):
            self.request.session.flush()
        user_password_changed(user=user)
        messages.success(
            self.request,
            "Your password is set. You can log in with it now. Every other session is logged "
            "out, and your old API token no longer works.",
        )
        return response


@never_cache
@login_required
def settings_view(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST":
        # Count a try at a new address before the password check, so the form cannot be used
        # to guess the password or to mail someone over and over.
        typed_email = request.POST.get("email", "")
        if typed_email and request.user.is_new_email(typed_email):
            wait = limits_exceeded(request, *VERIFICATION_MAIL_LIMITS)
            if wait is not None:
                return too_many_requests(request, wait)
        if form.is_valid():
            user_update_profile(
                user=request.user,
                display_name=form.cleaned_data["display_name"],
                bio=form.cleaned_data["bio"],
            )
            new_email = form.email_change()
            if new_email:
                email_change_request(
                    user=request.user, email=new_email, base_url=_site_url(request)
                )
                messages.info(
                    request,
                    f"To use {new_email}, open the link we sent there. Until then your address "
                    "stays as it is.",
                )
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:settings")
    return render(request, "accounts/settings.html", {"form": form})


@never_cache
def email_confirm(request, token):
    """The link mailed to a new address: a button (a POST, so that mail scanners opening
    links do not confirm anything) moves the account to it."""
    found = email_change_token_read(token)
    if found is None:
        return render(request, "accounts/email_confirm.html", {"problem": LINK_INVALID})
    if request.method == "POST":
        try:
            user = email_change_confirm(token=token)
        except ValidationError as error:  # another account has taken the address since
            problem = " ".join(error.messages)
            return render(request, "accounts/email_confirm.html", {"problem": problem})
        messages.success(request, f"Your e-mail address is now {user.email}.")
        return redirect("accounts:settings" if request.user == user else "accounts:login")
    member, email = found
    return render(request, "accounts/email_confirm.html", {"member": member, "email": email})


@never_cache
@login_required
def api_token(request):
    token = api_token_get_or_create(user=request.user)
    return render(request, "accounts/api_token.html", {"token": token})


@login_required
@require_POST
def api_token_reset(request):
    api_token_regenerate(user=request.user)
    messages.success(request, "A new API token is made; the old one no longer works.")
    return redirect("accounts:api_token")
