
from django.db import migrations


class Migration(migrations.Migration):

    """Item analysis's models now belong to the itemanalysis app (its 0001 took over their
    tables); remove them from this app's state without touching the database."""

    dependencies = [
        ('scoring', '0004_domain_score'),
        ('itemanalysis', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
        migrations.RemoveField(
            model_name='formstatistic',
            name='run',
        ),
        migrations.RemoveField(
            model_name='itemstatistic',
            name='run',
        ),
        migrations.RemoveField(
            model_name='formstatistic',
            name='form',
        ),
        migrations.RemoveField(
            model_name='itemstatistic',
            name='form',
        ),
        migrations.RemoveField(
            model_name='itemstatistic',
            name='item_version',
        ),
        migrations.RemoveField(
            model_name='pretestpromotion',
            name='by',
        ),
        migrations.RemoveField(
            model_name='pretestpromotion',
            name='item_version',
        ),
        migrations.DeleteModel(
            name='AnalysisRun',
        ),
        migrations.DeleteModel(
            name='FormStatistic',
        ),
        migrations.DeleteModel(
            name='ItemStatistic',
        ),
        migrations.DeleteModel(
            name='PretestPromotion',
        ),
            ],
        ),
    ]
