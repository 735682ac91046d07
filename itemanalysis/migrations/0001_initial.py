
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

MODELS = ["analysisrun", "itemstatistic", "formstatistic", "pretestpromotion"]


def move_content_types(apps, schema_editor):
    """Keep the models' content types (and so their permissions, the roles' grants and the
    admin log) by moving them to the new app label instead of creating new ones."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not content_type.objects.filter(app_label="itemanalysis", model=model).exists():
            content_type.objects.filter(app_label="scoring", model=model).update(
                app_label="itemanalysis"
            )


def restore_content_types(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="itemanalysis", model__in=MODELS).update(
        app_label="scoring"
    )


class Migration(migrations.Migration):

    initial = True

    """The item-analysis models leave the scoring app; their tables stay as they are.

    Only Django's idea of which app owns them changes (state_operations); the tables, rows
    and indexes are untouched (no database_operations). scoring 0005 removes them from the
    scoring app's state.
    """

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('scoring', '0004_domain_score'),
        ('exams', '0002_ccs_blueprint'),
        ('questionbank', '0002_ccs_domains'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
        migrations.CreateModel(
            name='AnalysisRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('classical', 'Classical statistics per form'), ('rasch', 'Rasch calibration of operational items'), ('pretest_anchor', 'Anchored calibration of pretest items')], max_length=20)),
                ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed'), ('skipped', 'Skipped')], default='queued', max_length=10)),
                ('progress', models.PositiveSmallIntegerField(default=0, help_text='Percent done (0–100).')),
                ('message', models.TextField(blank=True)),
                ('task_id', models.CharField(blank=True, max_length=64)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('started_at', models.DateTimeField(blank=True, null=True)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('summary', models.JSONField(blank=True, default=dict)),
                ('form', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='exams.examform')),
                ('requested_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'analysis run',
                'db_table': 'scoring_analysisrun',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='FormStatistic',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('computed_at', models.DateTimeField()),
                ('fingerprint', models.CharField(max_length=40)),
                ('n_attempts', models.PositiveIntegerField()),
                ('n_items', models.PositiveSmallIntegerField()),
                ('mean', models.FloatField(blank=True, null=True)),
                ('sd', models.FloatField(blank=True, null=True)),
                ('kr20', models.FloatField(blank=True, null=True)),
                ('sem', models.FloatField(blank=True, null=True)),
                ('score_distribution', models.JSONField(default=dict)),
                ('items_hurting_reliability', models.JSONField(blank=True, default=list)),
                ('form', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='statistics', to='exams.examform')),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='form_statistics', to='itemanalysis.analysisrun')),
            ],
            options={
                'verbose_name': 'form statistic',
                'db_table': 'scoring_formstatistic',
                'ordering': ['-computed_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='ItemStatistic',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('classical', 'Classical statistics per form'), ('rasch', 'Rasch calibration of operational items'), ('pretest_anchor', 'Anchored calibration of pretest items')], max_length=20)),
                ('is_pretest', models.BooleanField(default=False, help_text='Unscored (pretest) when computed.')),
                ('computed_at', models.DateTimeField()),
                ('fingerprint', models.CharField(max_length=40)),
                ('n_responses', models.PositiveIntegerField()),
                ('p', models.FloatField(blank=True, null=True)),
                ('point_biserial', models.FloatField(blank=True, null=True)),
                ('item_rest', models.FloatField(blank=True, null=True)),
                ('discrimination_index', models.FloatField(blank=True, null=True)),
                ('key', models.CharField(blank=True, max_length=20)),
                ('option_rates_all', models.JSONField(blank=True, default=dict)),
                ('option_rates_upper', models.JSONField(blank=True, default=dict)),
                ('option_rates_lower', models.JSONField(blank=True, default=dict)),
                ('difficulty', models.FloatField(blank=True, null=True)),
                ('se', models.FloatField(blank=True, null=True)),
                ('infit', models.FloatField(blank=True, null=True)),
                ('outfit', models.FloatField(blank=True, null=True)),
                ('flags', models.JSONField(blank=True, default=list)),
                ('flag_codes', models.CharField(blank=True, max_length=200)),
                ('flag_count', models.PositiveSmallIntegerField(default=0)),
                ('form', models.ForeignKey(blank=True, help_text='Empty for bank-wide statistics (all exam forms).', null=True, on_delete=django.db.models.deletion.CASCADE, related_name='item_statistics', to='exams.examform')),
                ('item_version', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='statistics', to='questionbank.itemversion')),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='item_statistics', to='itemanalysis.analysisrun')),
            ],
            options={
                'verbose_name': 'item statistic',
                'db_table': 'scoring_itemstatistic',
                'ordering': ['-computed_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='PretestPromotion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('at', models.DateTimeField(auto_now_add=True)),
                ('difficulty', models.FloatField(help_text='Rasch difficulty on the bank scale it carries.')),
                ('se', models.FloatField(blank=True, null=True)),
                ('n_responses', models.PositiveIntegerField()),
                ('statistics', models.JSONField(default=dict, help_text='The statistics it was promoted on.')),
                ('note', models.TextField(blank=True)),
                ('by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('item_version', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='promotions', to='questionbank.itemversion')),
            ],
            options={
                'verbose_name': 'pretest promotion',
                'db_table': 'scoring_pretestpromotion',
                'ordering': ['-at'],
            },
        ),
        migrations.AddConstraint(
            model_name='analysisrun',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'running')), fields=('kind',), name='analysisrun_one_running_per_kind'),
        ),
        migrations.AddIndex(
            model_name='formstatistic',
            index=models.Index(fields=['form', 'computed_at'], name='formstat_latest'),
        ),
        migrations.AddIndex(
            model_name='itemstatistic',
            index=models.Index(fields=['item_version', 'kind', 'computed_at'], name='itemstat_latest'),
        ),
        migrations.AddIndex(
            model_name='itemstatistic',
            index=models.Index(fields=['kind', 'form', 'fingerprint'], name='itemstat_fingerprint'),
        ),
            ],
        ),
        migrations.RunPython(move_content_types, restore_content_types),
    ]
