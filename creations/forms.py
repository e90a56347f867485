import uuid

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from .images import ACCEPT_ATTRIBUTE, image_process
from .models import Creation, validate_upload_key
from .services import parts_for
from .tagging import tags_parse


class TagsField(forms.CharField):
    """Comma-separated tags, normalised; cleans to a list of names."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 1000)
        kwargs.setdefault(
            "help_text",
            f"Comma-separated parts and themes, at most {settings.NPU_MAX_TAGS}, "
            "e.g. “cheese slope, castle”. Letter case and extra spaces do not matter.",
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def clean(self, value):
        return tags_parse(super().clean(value))


class PartsField(forms.CharField):
    """Comma-separated part numbers (or exact part names); cleans to a list of Part objects."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 1000)
        kwargs.setdefault("label", "Featured parts")
        kwargs.setdefault(
            "help_text",
            "The element(s) used in a new way: part numbers as on Rebrickable, comma-separated, "
            f"at most {settings.NPU_MAX_PARTS}, e.g. “3820, 54200”. "
            "Look them up on the Parts page.",
        )
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(getattr(part, "part_num", str(part)) for part in value)
        return value

    def clean(self, value):
        # The field's own checks (length, NUL) raise a plain error; the parser's names "parts".
        value = super().clean(value)
        try:
            return parts_for(value)
        except ValidationError as error:
            raise ValidationError(error.message_dict["parts"]) from error


class CreationForm(forms.ModelForm):
    """Upload: the picture goes through the image pipeline while the form validates."""

    tags = TagsField()
    parts = PartsField()
    # New for every blank form; a second post of the same form (a double click, a resubmit
    # after a slow answer) finds the creation the first one made (creation_create_once).
    upload_key = forms.CharField(
        widget=forms.HiddenInput,
        required=False,
        max_length=64,
        validators=[validate_upload_key],
        initial=lambda: uuid.uuid4().hex,
    )
    image = forms.FileField(
        label="Photo",
        help_text="JPEG, PNG, WebP, GIF or HEIC, up to 10 MB and 40 megapixels. "
        "Location and camera data are removed.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTRIBUTE}),
    )

    class Meta:
        model = Creation
        # Tags and the picture are declared above and saved by the service, not the ModelForm.
        fields = ("title", "description", "alt_text")
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}
        labels = {"alt_text": "Picture description (alt text)"}

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise ValidationError("Give your creation a title.")
        return title

    def clean_image(self):
        # Returns a ProcessedImage: the re-encoded picture and thumbnail, not yet stored.
        return image_process(self.cleaned_data["image"])


class CreationEditForm(forms.ModelForm):
    tags = TagsField()
    parts = PartsField()

    class Meta:
        model = Creation
        fields = ("title", "description", "alt_text")
        widgets = {"description": forms.Textarea(attrs={"rows": 6})}
        labels = {"alt_text": "Picture description (alt text)"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["tags"] = ", ".join(sorted(tag.name for tag in self.instance.tags.all()))
            self.initial["parts"] = [part.part_num for part in self.instance.parts.all()]

    clean_title = CreationForm.clean_title
