from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from creations.gallery import gallery_context
from creations.selectors import member_creation_stats
from npu_site.caching import cache_anonymous_page
from npu_site.ratelimit import rate_limited, username_key

from .forms import LoginForm, ProfileForm, SignupForm
from .models import User
from .services import (
    api_token_get_or_create,
    api_token_regenerate,
    user_create,
    user_update_profile,
)


def _safe_next(request, fallback: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


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


@rate_limited(("signup", "ip"))
def signup(request):
    if request.user.is_authenticated:
        return redirect("creations:gallery")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = user_create(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            password=form.cleaned_data["password1"],
        )
        login(request, user, backend="accounts.backends.UsernameOrEmailBackend")
        messages.success(request, f"Welcome to NPU, {user.username}! Share your first creation.")
        return redirect(_safe_next(request))
    return render(
        request, "registration/signup.html", {"form": form, "next": _safe_next(request, "")}
    )


@method_decorator(rate_limited(("login_ip", "ip"), ("login_username", username_key)), "post")
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
        messages.success(self.request, "Your password is changed.")
        return super().form_valid(form)


class PasswordResetView(auth_views.PasswordResetView):
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("accounts:login")

    def form_valid(self, form):
        messages.success(self.request, "Your password is set. You can log in with it now.")
        return super().form_valid(form)


@login_required
def settings_view(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user_update_profile(user=request.user, **form.cleaned_data)
        messages.success(request, "Your profile is saved.")
        return redirect("accounts:settings")
    return render(request, "accounts/settings.html", {"form": form})


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
