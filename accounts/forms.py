from django import forms
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm

from .models import User


def _check_email_free(email: str, *, exclude_pk=None) -> str:
    email = User.objects.normalize_email(email.strip())
    taken = User.objects.filter(email__iexact=email).exclude(pk=exclude_pk)
    if taken.exists():
        raise forms.ValidationError("An account with this e-mail address already exists.")
    return email


class SignupForm(UserCreationForm):
    email = forms.EmailField(
        help_text="Private: used only to reset your password. Nobody else sees it."
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self):
        return _check_email_free(self.cleaned_data["email"])


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label="Username or e-mail", widget=forms.TextInput(attrs={"autofocus": True})
    )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("display_name", "bio", "email")
        help_texts = {"email": "Private: never shown to other members."}
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def clean_email(self):
        return _check_email_free(self.cleaned_data["email"], exclude_pk=self.instance.pk)
