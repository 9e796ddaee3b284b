"""Where ticket numbers come from: a PostgreSQL sequence, or a counter row on SQLite."""

from django.db import migrations

SEQUENCE = "tickets_ticket_number_seq"


def create_counter(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} START 1 MINVALUE 1")
        # Continue after any numbers already present (e.g. an imported database).
        schema_editor.execute(
            f"SELECT setval('{SEQUENCE}', GREATEST(COALESCE(MAX(number), 0), 1), "
            "MAX(number) IS NOT NULL) FROM tickets_ticket"
        )
    else:
        Ticket = apps.get_model("tickets", "Ticket")
        NumberSequence = apps.get_model("tickets", "NumberSequence")
        last = Ticket.objects.order_by("-number").values_list("number", flat=True).first() or 0
        NumberSequence.objects.update_or_create(name="ticket", defaults={"last_value": last})


def drop_counter(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
    else:
        apps.get_model("tickets", "NumberSequence").objects.filter(name="ticket").delete()


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]

    operations = [migrations.RunPython(create_counter, drop_counter)]
