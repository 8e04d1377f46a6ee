# The access log, moved here from the patients app with its rows: patients.0002 renamed the
# table, this takes the model over and renames its index to the one Django gives it here.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('patients', '0002_access_log_moves_to_audit'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='PatientAccessLog',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('action', models.CharField(max_length=200)),
                        ('accessed_at', models.DateTimeField(auto_now_add=True)),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='access_log', to='patients.patient')),
                        ('staff_user', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'ordering': ['-accessed_at'],
                        'indexes': [models.Index(fields=['patient', 'accessed_at'], name='patients_pa_patient_e834c8_idx')],
                    },
                ),
            ],
        ),
        migrations.RenameIndex(
            model_name='patientaccesslog',
            new_name='audit_patie_patient_47c0a5_idx',
            old_name='patients_pa_patient_e834c8_idx',
        ),
    ]
