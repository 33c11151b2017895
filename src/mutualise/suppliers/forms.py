from __future__ import annotations

from django import forms

from mutualise.core.forms import GovUKForm
from mutualise.suppliers.models import ReviewDecision


class ReviewDecisionForm(GovUKForm):
    decision = forms.ChoiceField(
        label="What should happen to this supplier name?",
        choices=ReviewDecision.Decision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what to do with this supplier"},
    )
    organisation_identifier = forms.CharField(
        label="Organisation identifier",
        required=False,
        max_length=64,
        help_text="Only if you choose another organisation or accept a suggestion other than the first, "
        "for example GB-COH-01234567",
    )
