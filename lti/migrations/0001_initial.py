
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('cohorts', '0005_program_required'),
        ('exams', '0005_merge_awaiting_score_and_accommodations'),
        ('tenancy', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Registration',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(blank=True, max_length=120)),
                ('issuer', models.URLField(max_length=255)),
                ('client_id', models.CharField(max_length=255)),
                ('deployment_ids', models.JSONField(default=list, help_text='The deployment ids the platform gave this tool (a JSON list).')),
                ('auth_login_url', models.URLField(help_text="The platform's OIDC auth URL.", max_length=500)),
                ('access_token_url', models.URLField(max_length=500)),
                ('keyset_url', models.URLField(help_text="The platform's JWKS URL.", max_length=500)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('program', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='lti_registrations', to='tenancy.program')),
            ],
            options={
                'ordering': ['issuer', 'client_id'],
            },
        ),
        migrations.CreateModel(
            name='LtiUser',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('sub', models.CharField(max_length=255)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lti_identities', to=settings.AUTH_USER_MODEL)),
                ('registration', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='users', to='lti.registration')),
            ],
        ),
        migrations.CreateModel(
            name='Context',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('context_id', models.CharField(max_length=255)),
                ('title', models.CharField(blank=True, max_length=255)),
                ('memberships_url', models.URLField(blank=True, max_length=500)),
                ('deployment_id', models.CharField(blank=True, max_length=255)),
                ('cohort', models.OneToOneField(on_delete=django.db.models.deletion.PROTECT, related_name='lti_context', to='cohorts.cohort')),
                ('registration', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='contexts', to='lti.registration')),
            ],
        ),
        migrations.CreateModel(
            name='ResourceLink',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('resource_link_id', models.CharField(max_length=255)),
                ('title', models.CharField(blank=True, max_length=255)),
                ('review_policy', models.CharField(choices=[('none', 'Never'), ('after_submission', 'After submitting'), ('after_close', 'After the window closes')], default='after_submission', max_length=20)),
                ('ags_endpoint', models.JSONField(blank=True, default=dict)),
                ('context', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='links', to='lti.context')),
                ('form', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='exams.examform')),
                ('learners', models.ManyToManyField(blank=True, related_name='links', to='lti.ltiuser')),
            ],
        ),
        migrations.CreateModel(
            name='GradePost',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('line_item', models.URLField(max_length=500)),
                ('status', models.CharField(choices=[('pending', 'Pending'), ('sent', 'Sent')], default='pending', max_length=10)),
                ('tries', models.PositiveIntegerField(default=0)),
                ('next_try_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('last_error', models.TextField(blank=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('sent_at', models.DateTimeField(blank=True, null=True)),
                ('attempt', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='exams.attempt')),
                ('lti_user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='lti.ltiuser')),
                ('link', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='grade_posts', to='lti.resourcelink')),
            ],
            options={
                'ordering': ['created_at'],
            },
        ),
        migrations.CreateModel(
            name='ToolKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kid', models.CharField(max_length=100, unique=True)),
                ('private_key_pem', models.TextField()),
                ('public_key_pem', models.TextField()),
                ('is_active', models.BooleanField(default=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('retired_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['-created_at'],
                'constraints': [models.UniqueConstraint(condition=models.Q(('is_active', True)), fields=('is_active',), name='one_active_tool_key')],
            },
        ),
        migrations.CreateModel(
            name='UsedNonce',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('nonce', models.CharField(max_length=255)),
                ('used_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('registration', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='lti.registration')),
            ],
        ),
        migrations.AddConstraint(
            model_name='registration',
            constraint=models.UniqueConstraint(fields=('issuer', 'client_id'), name='lti_registration_once'),
        ),
        migrations.AddConstraint(
            model_name='ltiuser',
            constraint=models.UniqueConstraint(fields=('registration', 'sub'), name='lti_user_once'),
        ),
        migrations.AddConstraint(
            model_name='context',
            constraint=models.UniqueConstraint(fields=('registration', 'context_id'), name='lti_context_once'),
        ),
        migrations.AddConstraint(
            model_name='resourcelink',
            constraint=models.UniqueConstraint(fields=('context', 'resource_link_id'), name='lti_resource_link_once'),
        ),
        migrations.AddIndex(
            model_name='gradepost',
            index=models.Index(fields=['status', 'next_try_at'], name='lti_gradepo_status_e5b8b2_idx'),
        ),
        migrations.AddConstraint(
            model_name='gradepost',
            constraint=models.UniqueConstraint(fields=('attempt', 'line_item'), name='grade_post_once'),
        ),
        migrations.AddConstraint(
            model_name='usednonce',
            constraint=models.UniqueConstraint(fields=('registration', 'nonce'), name='lti_nonce_once'),
        ),
    ]
