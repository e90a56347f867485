"""Create the `moderators` group with exactly the permissions moderation needs."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATOR_PERMISSIONS = {
    ("creations", "creation"): ["view", "change"],
    ("moderation", "report"): ["view", "change"],
    ("scoring", "score"): ["view", "delete"],
    ("taggit", "tag"): ["view", "change", "delete"],
}


def create_moderators_group(apps, schema_editor):
    # Permissions are normally made after all migrations run; make them now so we can use them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="moderators")
    permissions = []
    for (app_label, model), actions in MODERATOR_PERMISSIONS.items():
        for action in actions:
            permissions.append(
                Permission.objects.get(
                    content_type__app_label=app_label,
                    content_type__model=model,
                    codename=f"{action}_{model}",
                )
            )
    group.permissions.set(permissions)


def remove_moderators_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="moderators").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("creations", "0001_initial"),
        ("moderation", "0001_initial"),
        ("scoring", "0001_initial"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(create_moderators_group, remove_moderators_group)]
