from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from creations.gallery import gallery_context
from creations.selectors import creations_waiting_for_review, member_creation_stats
from npu_site.caching import cache_anonymous_page
from npu_site.ratelimit import (
    OWN_ADDRESS_MAIL_LIMITS,
    VERIFICATION_MAIL_LIMITS,
    email_key,
    identifier_normalised,
    limits_exceeded,
    rate_limited,
    too_many_requests,
)

from .backends import login_key
from .exports import data_export_request, export_for_download
from .forms import LoginForm, PasswordResetForm, ProfileForm, SignupForm
from .models import DataExport, User
from .services import (
    LINK_INVALID,
    api_token_get_or_create,
    api_token_regenerate,
    email_change_confirm,
    email_change_request,
    email_verification_send,
    email_verify,
    signup_create,
    user_delete,
    user_password_changed,
    user_update_profile,
)
from .tokens import email_change_token_read


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
    # The member's own uploads still waiting for review are shown to them only.
    waiting = creations_waiting_for_review(owner=member) if request.user.pk == member.pk else []
    return render(
        request,
        "accounts/profile.html",
        {
            **context,
            "member": member,
            "stats": member_creation_stats(member=member),
            "waiting_for_review": waiting,
        },
        status=context["status"],
    )


@never_cache
@sensitive_post_parameters("password1", "password2")
@rate_limited(("signup", "ip"), ("verification_mail_address", email_key))
def signup(request):
    """Sign-up in one step: an unverified account and a mailed link that verifies it (see
    services.signup_create). The answer is the same whether the address was free or not."""
    if request.user.is_authenticated:
        return redirect("creations:gallery")
    form = SignupForm(request.POST or None)
    next_url = _safe_next(request, "")
    if request.method == "POST" and form.is_valid():
        try:
            signup_create(
                username=form.cleaned_data["username"],
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password1"],
                base_url=_site_url(request),
                next_url=next_url,
            )
        except ValidationError as error:  # the username, taken since the form's check
            form.add_error(None, error)
        else:
            sent = reverse("accounts:signup_sent")
            return redirect(f"{sent}?{urlencode({'next': next_url})}" if next_url else sent)
    return render(request, "registration/signup.html", {"form": form, "next": next_url})


def signup_sent(request):
    return render(request, "registration/signup_sent.html", {"next": _safe_next(request, "")})


def signup_confirm(request, token):
    """A link mailed by the two-step sign-up this site had before: it no longer makes
    accounts, and says so."""
    return render(request, "registration/signup_confirm.html")


@never_cache
def email_verify_view(request, token):
    """The link mailed at sign-up (or asked for again): opening it verifies the address."""
    try:
        member, next_url = email_verify(token=token)
    except ValidationError as error:
        return render(
            request, "accounts/email_verify.html", {"problem": " ".join(error.messages)}, status=400
        )
    upload = reverse("creations:new")
    next_url = _safe_next(request, upload, target=next_url or upload)
    return render(
        request,
        "accounts/email_verify.html",
        {"member": member, "next": next_url, "next_is_upload": next_url == upload},
    )


@login_required
@require_POST
def email_verify_resend(request):
    """Mail the member a new verification link, within the limits of mail to an address."""
    if request.user.email_verified:
        messages.info(request, "Your e-mail address is confirmed already.")
        return redirect(_safe_next(request, reverse("accounts:settings")))
    wait = limits_exceeded(request, *OWN_ADDRESS_MAIL_LIMITS)
    if wait is not None:
        return too_many_requests(request, wait)
    email_verification_send(user=request.user, base_url=_site_url(request))
    messages.success(request, f"We sent a new link to {request.user.email}. It works for one day.")
    return redirect(_safe_next(request, reverse("accounts:settings")))


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
            user = email_change_confirm(token=token, base_url=_site_url(request))
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


def own_username_key(group, request) -> str:
    """The log-in limit's per-account key for a logged-in member retyping their password."""
    return identifier_normalised(request.user.get_username())


# Password tries to delete an account count against the log-in limits (10 a minute per IP and
# per account), so the confirmation cannot be used to guess a password faster than log-in.
ACCOUNT_PASSWORD_LIMITS = (("login_ip", "ip"), ("login_username", own_username_key))


@never_cache
@login_required
@sensitive_post_parameters("password")
def account_delete(request):
    """What goes with the account, and a form that deletes it once the password is typed."""
    error = ""
    if request.method == "POST":
        wait = limits_exceeded(request, *ACCOUNT_PASSWORD_LIMITS)
        if wait is not None:
            return too_many_requests(request, wait)
        try:
            user_delete(user=request.user, password=request.POST.get("password", ""))
        except ValidationError as invalid:
            error = " ".join(invalid.message_dict.get("password", invalid.messages))
        else:
            logout(request)
            messages.success(request, "Your account and everything in it are deleted. Goodbye.")
            return redirect("creations:gallery")
    return render(request, "accounts/delete.html", {"error": error}, status=400 if error else 200)


@login_required
@require_POST
def export_request(request):
    """The settings page's button: start a data export (one at a time, a few a day)."""
    try:
        export, created = data_export_request(user=request.user)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
        return redirect("accounts:settings")
    export.refresh_from_db()  # built already when no worker runs tasks
    if export.status == DataExport.Status.READY:
        messages.success(request, "Your data export is ready: your notifications link to it.")
    elif created:
        messages.success(
            request, "Your data export is being prepared. A notification will link to it."
        )
    else:
        messages.info(request, "Your data export is still being prepared.")
    return redirect("accounts:settings")


@never_cache
def export_download(request, token):
    """The zip of a data export, for its member only (anyone else, or an expired or forged
    link: a 404)."""
    export = export_for_download(user=request.user, token=token)
    if export is None:
        raise Http404("No such export, or it has expired.")
    try:
        stored = default_storage.open(export.file_name, "rb")
    except FileNotFoundError as error:
        raise Http404("No such export, or it has expired.") from error
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=f"npu-{request.user.get_username()}-{export.created_at:%Y-%m-%d}.zip",
        content_type="application/zip",
    )
    response["Cache-Control"] = "private, no-store"
    return response
