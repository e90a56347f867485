from django import forms

from npu_site.text import validate_text

from .models import Report


class ReportForm(forms.ModelForm):
    class Meta:
        model = Report
        fields = ("reason", "note")
        widgets = {
            "reason": forms.RadioSelect,
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"note": "Anything the moderators should know (optional)"}


class AppealForm(forms.Form):
    note = forms.CharField(
        label="Why should it be published again?",
        max_length=1000,
        validators=[validate_text],
        widget=forms.Textarea(attrs={"rows": 4}),
    )
