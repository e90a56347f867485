from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin, UsernameField
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from npu_site.mail import mail_queue
from npu_site.text import validate_line

from .models import User


class SignupForm(SetPasswordMixin, forms.ModelForm):
    """Sign-up: a username, an address to verify, and a password (Django's validators).

    The address is not a model field here, so the form never checks it against the accounts
    (the unique constraint included): whether it is taken must not show. The username is
    public, so a taken one is a form error.
    """

    email = forms.EmailField(
        max_length=254,
        validators=[validate_line],
        help_text="Private: nobody else sees it. We mail a link there to confirm it; "
        "you can upload once it is confirmed.",
    )
    password1, password2 = SetPasswordMixin.create_password_fields()

    class Meta:
        model = User
        fields = ("username",)
        field_classes = {"username": UsernameField}
        widgets = {"username": forms.TextInput(attrs={"autofocus": True})}

    def clean(self):
        self.validate_passwords()
        return super().clean()

    def _post_clean(self):
        super()._post_clean()  # the instance now has the username
        # The similarity validator compares the password with the username and the address.
        self.instance.email = self.cleaned_data.get("email") or ""
        self.validate_password_for_user(self.instance)


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="Username or e-mail", widget=forms.TextInput(attrs={"autofocus": True})
    )


class ProfileForm(forms.ModelForm):
    """Display name and bio change at once; a new address needs the current password and
    changes when the member opens the link mailed to it."""

    email = forms.EmailField(
        max_length=254,
        validators=[validate_line],
        help_text="Private: never shown to other members. A new address changes when you open "
        "the link we mail to it.",
    )
    current_password = forms.CharField(
        label="Current password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Needed only to change your e-mail address.",
    )

    class Meta:
        model = User
        fields = ("display_name", "bio")
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].initial = self.instance.email

    def clean(self):
        cleaned_data = super().clean()
        email = cleaned_data.get("email")
        if email and self.instance.is_new_email(email):
            password = cleaned_data.get("current_password")
            if not password:
                self.add_error(
                    "current_password",
                    "Enter your current password to change your e-mail address.",
                )
            elif not self.instance.check_password(password):
                self.add_error("current_password", "That is not your current password.")
        return cleaned_data

    def email_change(self) -> str | None:
        """The new address asked for, once the form is valid; None when it stays."""
        email = self.cleaned_data["email"]
        return email if self.instance.is_new_email(email) else None


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Django's reset form, its mail sent by the background worker (npu_site.mail), and only
    to a verified address: an unverified one may not be the member's. The page answers the
    same either way."""

    def get_users(self, email):
        return (user for user in super().get_users(email) if user.email_verified)

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        # Rendered here, in the request: the worker gets plain text, never the member's row.
        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        message = EmailMultiAlternatives(
            subject, render_to_string(email_template_name, context), from_email, [to_email]
        )
        if html_email_template_name is not None:
            message.attach_alternative(
                render_to_string(html_email_template_name, context), "text/html"
            )
        mail_queue(message)
