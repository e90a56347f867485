from django import forms

from .models import SCORE_MAX, SCORE_MIN

SCORE_CHOICES = [(value, str(value)) for value in range(SCORE_MIN, SCORE_MAX + 1)]


class ScoreForm(forms.Form):
    creativity = forms.TypedChoiceField(
        choices=SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        help_text="1: seen it before · 5: never thought of using the part like that",
    )
    uniqueness = forms.TypedChoiceField(
        choices=SCORE_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        help_text="1: a common build · 5: nothing else like it",
    )
