from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("layers", "0007_layer_time_extent"),
    ]

    operations = [
        migrations.AddField(
            model_name="layer",
            name="single_precision",
            field=models.BooleanField(default=False, editable=False),
        ),
    ]
