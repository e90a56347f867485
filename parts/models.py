from django.db import models
from django.urls import reverse


class PartCategory(models.Model):
    """A category of the parts catalog, keyed by Rebrickable's category id."""

    id = models.PositiveIntegerField(primary_key=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "part categories"

    def __str__(self) -> str:
        return self.name


class Part(models.Model):
    """A LEGO element, keyed by its part number as Rebrickable numbers it (3001: Brick 2 x 4)."""

    part_num = models.CharField("part number", max_length=50, primary_key=True)
    name = models.CharField(max_length=250)
    category = models.ForeignKey(
        PartCategory, on_delete=models.PROTECT, related_name="parts", null=True, blank=True
    )
    material = models.CharField(max_length=50, blank=True)

    class Meta:
        ordering = ["part_num"]
        indexes = [models.Index(fields=["name"], name="part_name_idx")]

    def __str__(self) -> str:
        return f"{self.part_num} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("parts:detail", kwargs={"part_num": self.part_num})
