# Every write to the onboarding records (stages, evidence, applications, visits,
# routing, training, trial, launch, regulation, invitations) lands in the public
# schema's row history (audit.history), also when it bypasses the services.

from django.db import migrations

from audit.history import track


class Migration(migrations.Migration):

    dependencies = [
        ("onboarding", "0003_move_admininvitation_to_accounts"),
        ("accounts", "0002_admininvitation_from_onboarding"),
        ("audit", "0002_row_history"),
    ]

    operations = [
        track("onboarding_pemdaonboarding", pk="region_id"),
        track("onboarding_stagetransition"),
        track("onboarding_application", pk="onboarding_id"),
        track("onboarding_verificationvisit"),
        track("onboarding_operatorrouting"),
        track("onboarding_trainingsession"),
        track("onboarding_trialcall"),
        track("onboarding_launch", pk="onboarding_id"),
        track("onboarding_regulation", pk="onboarding_id"),
        track("onboarding_admininvitation"),
    ]
