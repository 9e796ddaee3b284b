"""The chat console needs its own permission: grant it to the groups that work a queue
today, so operators who answered chats before still can after the upgrade."""

from django.db import migrations


def grant_to_queue_operators(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # Permissions are normally created after migrate; this one is needed now.
    content_type, _ = ContentType.objects.get_or_create(app_label="chat", model="chatsession")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename="operate_chat",
        defaults={"name": "Can answer chats in the operator console"},
    )
    for group in Group.objects.filter(queues__isnull=False).distinct():
        group.permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("tickets", "0001_initial"),
        ("chat", "0002_chatsession_email"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="chatsession",
            options={
                "ordering": ["-started_at"],
                "permissions": [
                    ("operate_chat", "Can answer chats in the operator console"),
                ],
                "verbose_name": "chat session",
                "verbose_name_plural": "chat sessions",
            },
        ),
        migrations.RunPython(grant_to_queue_operators, migrations.RunPython.noop),
    ]
