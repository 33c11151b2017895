from __future__ import annotations

from datetime import date

from django import forms

from mutualise.core.forms import GovUKForm
from mutualise.pipeline import reservation


class ReservationCheckForm(GovUKForm):
    cpv_codes = forms.CharField(
        label="CPV codes",
        max_length=400,
        help_text="One or more 8-digit codes separated by spaces or commas, for example 85311000 85312000",
    )
    maximum_term_months = forms.IntegerField(
        label="Maximum term in months",
        min_value=1,
        max_value=1200,
        help_text="Including every option to extend, for example 36",
    )
    award_date = forms.DateField(
        label="Award date",
        help_text="For example 2025-03-31 (year-month-day)",
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
    )
    procedure = forms.ChoiceField(
        label="Procedure",
        required=False,
        choices=[
            ("", "Not decided yet"),
            ("competitive-flexible", "Competitive flexible procedure"),
            ("open", "Open procedure"),
            ("restricted", "Restricted procedure"),
            ("competitive-with-negotiation", "Competitive procedure with negotiation"),
            ("competitive-dialogue", "Competitive dialogue"),
            ("light-touch", "Light touch regime procedure"),
            ("direct-award", "Direct award"),
        ],
    )
    supplier_identifier = forms.CharField(
        label="Supplier organisation identifier (optional)",
        required=False,
        max_length=120,
        help_text="Scheme and number, for example GB-COH-01234567",
    )
    buyer_identifier = forms.CharField(
        label="Buyer organisation identifier (optional)",
        required=False,
        max_length=120,
        help_text="Scheme and number, for example GB-LAE-E08000001 or GB-NHS-RX1",
    )

    def clean_cpv_codes(self) -> list[str]:
        raw = self.cleaned_data["cpv_codes"].replace(",", " ").split()
        codes = []
        for code in raw:
            normal = reservation.normalise_cpv(code)
            if normal is None:
                raise forms.ValidationError(
                    f"Enter CPV codes as 8 digits, like 85311000 ({code} is not)"
                )
            codes.append(normal)
        if not codes:
            raise forms.ValidationError("Enter at least one CPV code")
        return codes

    def clean_award_date(self) -> date:
        day = self.cleaned_data["award_date"]
        if day.year < 2000 or day.year > 2100:
            raise forms.ValidationError("Enter an award date between 2000 and 2100")
        return day

    def _identifier(self, name: str) -> str:
        value = self.cleaned_data[name].strip().upper()
        if value and reservation.identifier_scheme(value) is None:
            raise forms.ValidationError("Enter the scheme and number, like GB-COH-01234567")
        return value

    def clean_supplier_identifier(self) -> str:
        return self._identifier("supplier_identifier")

    def clean_buyer_identifier(self) -> str:
        return self._identifier("buyer_identifier")
