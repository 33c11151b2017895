"""The password strength rule (zxcvbn, minimum score 3) and every path that sets a password."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import (
    get_default_password_validators,
    validate_password,
)
from django.core.exceptions import ValidationError
from typer.testing import CliRunner

from mutualise.core.demo import DEMO_PASSWORD
from mutualise.core.models import User
from mutualise.core.password_validation import ZxcvbnValidator
from mutualise.core.services import CreateUserError, create_user

FACTORY_PASSWORD = "correct horse battery staple"  # tests/factories.py, tests/e2e/conftest.py


def test_the_validator_is_configured_with_a_minimum_score_of_3():
    zxcvbn_validators = [
        v for v in get_default_password_validators() if isinstance(v, ZxcvbnValidator)
    ]
    assert len(zxcvbn_validators) == 1
    assert zxcvbn_validators[0].min_score == 3


@pytest.mark.parametrize("password", ["letmein123456", "aaaaaaaaaaaaaaaa", "password12345"])
def test_guessable_passwords_are_refused_in_plain_english_with_advice(password):
    with pytest.raises(ValidationError) as raised:
        ZxcvbnValidator().validate(password)
    message = " ".join(raised.value.messages)
    assert message.startswith("This password would be too easy to guess.")
    assert "Add another word or two." in message  # zxcvbn's own suggestion
    assert raised.value.error_list[0].code == "password_too_guessable"


def test_the_persons_own_details_count_against_the_password():
    """Scored 4 on its own; 1 once zxcvbn knows it is the person's name."""
    validator = ZxcvbnValidator()
    stranger = User(username="someone", full_name="Ada Lovelace")
    validator.validate("BartholomewQuigglesworth", stranger)  # strong for someone else
    owner = User(username="bq", full_name="Bartholomew Quigglesworth", email="bq@example.org")
    with pytest.raises(ValidationError, match="too easy to guess"):
        validator.validate("BartholomewQuigglesworth", owner)


def test_an_email_local_part_is_a_user_input():
    owner = User(username="x1", email="quigglesworth@example.org")
    ZxcvbnValidator().validate("quigglesworth2024", User(username="x2"))
    with pytest.raises(ValidationError):
        ZxcvbnValidator().validate("quigglesworth2024", owner)


def test_very_long_passwords_are_scored_on_their_start_and_stay_fast():
    ZxcvbnValidator().validate("correct horse battery staple " * 40)


def test_min_score_must_be_a_zxcvbn_score():
    with pytest.raises(ValueError, match="between 0 and 4"):
        ZxcvbnValidator(min_score=5)


def test_help_text_is_plain_english():
    assert "hard to guess" in ZxcvbnValidator().get_help_text()


@pytest.mark.parametrize(
    ("password", "user"),
    [
        (
            DEMO_PASSWORD,
            User(username="off-1", full_name="Programme Officer One", email="off-1@example.org"),
        ),
        (
            DEMO_PASSWORD,
            User(username="admin", full_name="Service administrator", email="admin@example.org"),
        ),
        (
            FACTORY_PASSWORD,
            User(username="user1", full_name="Sam Jones", email="user1@example.org"),
        ),
    ],
)
def test_the_demo_and_test_passwords_pass_every_validator(password, user):
    validate_password(password, user)


@pytest.mark.django_db
def test_create_user_refuses_a_guessable_password(staff_group):
    with pytest.raises(CreateUserError, match="too easy to guess"):
        create_user(username="sam", role="administrator", password="letmein123456")
    assert not User.objects.filter(username="sam").exists()
    user = create_user(username="sam", role="administrator", password=FACTORY_PASSWORD)
    assert user.check_password(FACTORY_PASSWORD)


@pytest.mark.django_db
def test_the_createuser_command_applies_the_policy():
    from mutualise.cli import app

    runner = CliRunner()
    refused = runner.invoke(
        app,
        ["createuser", "sam", "--role", "administrator"],
        env={"MUTUALISE_NEW_PASSWORD": "letmein123456"},
    )
    assert refused.exit_code == 2
    assert "too easy to guess" in refused.output
    assert not User.objects.filter(username="sam").exists()
    accepted = runner.invoke(
        app,
        ["createuser", "sam", "--role", "administrator"],
        env={"MUTUALISE_NEW_PASSWORD": FACTORY_PASSWORD},
    )
    assert accepted.exit_code == 0, accepted.output
    assert User.objects.filter(username="sam").exists()
