"""Forms that render with GOV.UK Frontend classes, and the sign-in form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe


class GovUKSelect(forms.Select):
    """A select that writes its own markup, the same as Django's select templates produce.

    Django renders a select through a template per option; on the officer's filter pages that
    was most of the page's time. The markup is built with format_html, so every value and
    label is escaped exactly as the template would.
    """

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        parts: list[str] = [
            format_html('<select name="{}"{}>', widget["name"], flatatt(widget["attrs"]))
        ]
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                parts.append(format_html('<optgroup label="{}">', group_name))
            parts.extend(
                format_html(
                    '<option value="{}"{}>{}</option>',
                    option["value"],
                    flatatt(option["attrs"]),
                    option["label"],
                )
                for option in options
            )
            if group_name:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308 - every part above is format_html output


WIDGET_CLASSES = {
    forms.TextInput: "govuk-input",
    forms.EmailInput: "govuk-input",
    forms.NumberInput: "govuk-input govuk-input--width-10",
    forms.PasswordInput: "govuk-input govuk-input--width-20",
    forms.DateInput: "govuk-input govuk-input--width-10",
    forms.Textarea: "govuk-textarea",
    forms.Select: "govuk-select",
    GovUKSelect: "govuk-select",
    forms.ClearableFileInput: "govuk-file-upload",
    forms.FileInput: "govuk-file-upload",
    forms.CheckboxInput: "govuk-checkboxes__input",
}


class GovUKFormMixin:
    """Adds GOV.UK classes, error states and aria-describedby to every widget.

    Error states are added after validation (full_clean), not in __init__, so that subclasses
    can set choices or remove fields in their own __init__ before the data is validated.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            widget = field.widget
            css = next((c for t, c in WIDGET_CLASSES.items() if type(widget) is t), "")
            if type(widget) is forms.Select:
                widget.__class__ = GovUKSelect  # same state, faster render
            if css:
                widget.attrs["class"] = css
            if field.help_text:
                widget.attrs["aria-describedby"] = f"id_{name}-hint"

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self._errors or {}:  # type: ignore[attr-defined]
            field = self.fields.get(name)  # type: ignore[attr-defined]
            if field is None:
                continue
            widget = field.widget
            css = next((c for t, c in WIDGET_CLASSES.items() if type(widget) is t), "")
            if css:  # radios and date parts style their errors in the template
                widget.attrs["class"] = css + " " + css.split()[0] + "--error"
            widget.attrs["aria-invalid"] = "true"
            described = [f"id_{name}-hint"] if field.help_text else []
            widget.attrs["aria-describedby"] = " ".join([*described, f"id_{name}-error"])


class GovUKForm(GovUKFormMixin, forms.Form):
    pass


class GovUKModelForm(GovUKFormMixin, forms.ModelForm):
    pass


class SignInForm(GovUKFormMixin, AuthenticationForm):
    error_messages = {
        "invalid_login": "Enter a correct username and password. Both are case-sensitive.",
        "inactive": "This account is inactive.",
    }


class DatePartsWidget(forms.MultiWidget):
    """Day, month and year boxes (the GOV.UK date input); render with includes/date_field.html."""

    govuk_date = True

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__([forms.TextInput(), forms.TextInput(), forms.TextInput()], attrs)

    def decompress(self, value: Any) -> list[Any]:
        if value:
            return [value.day, value.month, value.year]
        return [None, None, None]


class GovUKDateField(forms.MultiValueField):
    """A date typed as day, month and year, with GOV.UK error messages."""

    widget = DatePartsWidget

    def __init__(self, **kwargs: Any) -> None:
        parts = (forms.CharField(), forms.CharField(), forms.CharField())
        super().__init__(parts, require_all_fields=False, **kwargs)

    def clean(self, value: Any) -> Any:
        from datetime import date

        values = list(value) if isinstance(value, list | tuple) else [None, None, None]
        day, month, year = (str(v or "").strip() for v in (values + [None] * 3)[:3])
        if not (day or month or year):
            if self.required:
                raise forms.ValidationError(f"Enter the {str(self.label).lower()}", code="required")
            return None
        missing = [
            name for name, part in (("day", day), ("month", month), ("year", year)) if not part
        ]
        if missing:
            raise forms.ValidationError(
                f"{self.label} must include a {' and a '.join(missing)}", code="incomplete"
            )
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            raise forms.ValidationError(f"{self.label} must be a real date", code="invalid")
        try:
            return date(int(year), int(month), int(day))
        except (ValueError, OverflowError):  # OverflowError: a day or month of 20 digits
            raise forms.ValidationError(
                f"{self.label} must be a real date", code="invalid"
            ) from None

    def compress(self, data_list: Any) -> Any:  # clean() does the work
        return None


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """A form's choice field, typed, for setting choices in __init__."""
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    return field


class SecurityCodeForm(GovUKForm):
    """One box for a security code: 6 digits from the app or, at sign-in, a recovery code."""

    code = forms.CharField(
        label="Security code",
        max_length=32,
        error_messages={"required": "Enter the security code"},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "spellcheck": "false",
                "autocapitalize": "none",
            }
        ),
    )

    def __init__(
        self, *args: Any, label: str = "", help_text: str = "", numeric: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["code"]
        if label:
            field.label = label
        if help_text:
            field.help_text = help_text
            field.widget.attrs["aria-describedby"] = "id_code-hint"
        field.widget.attrs["class"] = "govuk-input govuk-input--width-10"
        if numeric:
            field.widget.attrs["inputmode"] = "numeric"

    def full_clean(self) -> None:
        super().full_clean()
        if "code" in (getattr(self, "_errors", None) or {}):
            self.fields["code"].widget.attrs["class"] = (
                "govuk-input govuk-input--width-10 govuk-input--error"
            )

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        if field == "code":
            widget = self.fields["code"].widget
            widget.attrs["class"] = "govuk-input govuk-input--width-10 govuk-input--error"
            widget.attrs["aria-invalid"] = "true"
            described = ["id_code-hint"] if self.fields["code"].help_text else []
            widget.attrs["aria-describedby"] = " ".join([*described, "id_code-error"])
