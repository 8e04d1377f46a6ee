# The access log moves to the audit app with its rows: its table is renamed here, and
# audit.0001 takes the model over without touching the database.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('patients', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.AlterModelTable('PatientAccessLog', 'audit_patientaccesslog'),
            ],
            state_operations=[
                migrations.DeleteModel('PatientAccessLog'),
            ],
        ),
    ]
