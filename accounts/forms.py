from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordMixin, UsernameField
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from npu_site.mail import mail_queue
from npu_site.text import validate_line

from .models import User


class SignupForm(forms.ModelForm):
    """The first step of signing up: a username and an address to send the link to.

    The address is not a model field here, so the form never checks it against the accounts
    (the unique constraint included): whether it is taken must not show.
    """

    email = forms.EmailField(
        max_length=254,
        validators=[validate_line],
        help_text="Private: used only to reset your password. Nobody else sees it. "
        "We send a link there to finish signing up.",
    )

    class Meta:
        model = User
        fields = ("username",)
        field_classes = {"username": UsernameField}
        widgets = {"username": forms.TextInput(attrs={"autofocus": True})}


class SignupPasswordForm(SetPasswordMixin, forms.Form):
    """The last step of signing up: the password, checked against the account-to-be."""

    password1, password2 = SetPasswordMixin.create_password_fields()

    def __init__(self, *args, username: str, email: str, **kwargs):
        self.user = User(username=username, email=email)  # for the similarity validator
        super().__init__(*args, **kwargs)

    def clean(self):
        self.validate_passwords()
        self.validate_password_for_user(self.user)
        return super().clean()


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
    """Django's reset form, its mail sent by the background worker (npu_site.mail)."""

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
