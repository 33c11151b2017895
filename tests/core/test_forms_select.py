"""GovUKSelect writes the same markup as Django's own select templates."""

from django import forms
from django.test.html import parse_html

from mutualise.core.forms import GovUKForm, GovUKSelect


class Choose(GovUKForm):
    colour = forms.ChoiceField(
        choices=[("", "Any"), ("red", "Red & <b>bold</b>"), ("Blues", [("navy", "Navy")])],
        required=True,
    )


def test_matches_djangos_rendering_escaped_and_selected():
    form = Choose({"colour": "navy"})
    ours = str(form["colour"])
    form.fields["colour"].widget.__class__ = forms.Select
    django = str(form["colour"])
    assert parse_html(ours) == parse_html(django)  # same elements and attributes, any order
    assert "Red &amp; &lt;b&gt;bold&lt;/b&gt;" in ours and "<b>" not in ours
    assert '<option value="navy" selected>Navy</option>' in ours
    assert '<optgroup label="Blues">' in ours


def test_errors_mark_the_select():
    form = Choose({"colour": "green"})
    assert not form.is_valid()
    widget = form.fields["colour"].widget
    assert isinstance(widget, GovUKSelect)
    assert "govuk-select--error" in widget.attrs["class"]
    assert 'aria-invalid="true"' in str(form["colour"])
