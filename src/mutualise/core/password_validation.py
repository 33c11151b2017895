"""A password strength rule that estimates how guessable a password is (zxcvbn), not its shape.

Length and character-class rules push people towards "Password1!"; zxcvbn scores a password
0-4 by how many guesses an attacker would need, knowing common passwords, names, dates,
keyboard patterns and the person's own details (fed in as ``user_inputs``).
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from zxcvbn import zxcvbn

# zxcvbn's running time grows with the password's length; beyond this many characters the
# first part is scored (a long password is not made weak by what comes after).
SCORED_LENGTH = 72

USER_ATTRIBUTES = ("username", "full_name", "first_name", "last_name", "email")


def _user_inputs(user: Any, attributes: tuple[str, ...]) -> list[str]:
    """The person's own details, whole and in parts (an email's local part, each name)."""
    inputs: list[str] = []
    for attribute in attributes:
        value = str(getattr(user, attribute, "") or "").strip()
        if not value:
            continue
        inputs.append(value)
        inputs.extend(part for part in re.split(r"[\s@._+-]+", value) if len(part) >= 3)
    return inputs


class ZxcvbnValidator:
    """Refuses passwords zxcvbn scores below ``min_score`` (3 = "safely unguessable")."""

    def __init__(
        self, min_score: int = 3, user_attributes: tuple[str, ...] = USER_ATTRIBUTES
    ) -> None:
        if not 0 <= min_score <= 4:
            raise ValueError("min_score must be between 0 and 4")
        self.min_score = min_score
        self.user_attributes = tuple(user_attributes)

    def validate(self, password: str, user: Any = None) -> None:
        result = zxcvbn(
            password[:SCORED_LENGTH], user_inputs=_user_inputs(user, self.user_attributes)
        )
        if result["score"] >= self.min_score:
            return
        feedback = result.get("feedback") or {}
        advice = [str(feedback.get("warning") or "").strip()]
        advice += [str(s).strip() for s in feedback.get("suggestions") or []]
        advice = [_sentence(a) for a in advice if a]
        if not advice:
            advice = ["Use three or four unrelated words, or a longer password."]
        raise ValidationError(
            "This password would be too easy to guess. %(advice)s",
            code="password_too_guessable",
            params={"advice": " ".join(advice)},
        )

    def get_help_text(self) -> str:
        return (
            "Your password must be hard to guess: three or four unrelated words make a strong "
            "one. Do not use your name, username or email address."
        )


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."
