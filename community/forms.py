"""Comment forms. They bound and check what they can; the services have the last word."""

from django import forms

from npu_site.text import validate_text

from .models import COMMENT_MAX_LENGTH, CommentReport
from .text import normalised_line_breaks

# The largest id the database holds: a bigger number names no comment (and no 500).
MAX_ID = 2**63 - 1


class CommentBodyField(forms.CharField):
    """A comment's text with its line breaks as stored, plain newlines: browsers send CR LF,
    which would count twice against the length the text box allowed."""

    def __init__(self, **kwargs):
        super().__init__(
            max_length=COMMENT_MAX_LENGTH,
            validators=[validate_text],
            widget=forms.Textarea(attrs={"rows": 4}),
            **kwargs,
        )

    def to_python(self, value):
        return normalised_line_breaks(super().to_python(value))


class CommentForm(forms.Form):
    """A new comment, or a reply when `parent` names a top-level comment."""

    body = CommentBodyField(
        label="Your comment",
        help_text="Plain text; addresses become links, and @username mentions a member.",
    )
    parent = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, widget=forms.HiddenInput
    )


class CommentEditForm(forms.Form):
    body = CommentBodyField(label="Your comment")


class CommentReportForm(forms.ModelForm):
    class Meta:
        model = CommentReport
        fields = ("reason", "note")
        widgets = {
            "reason": forms.RadioSelect,
            "note": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"note": "Anything the moderators should know (optional)"}
