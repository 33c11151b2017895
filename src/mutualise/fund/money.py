"""Money as integer pence. Parse what people type ("£1,250.50") exactly; never use floats."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation


class MoneyError(ValueError):
    """What the person typed is not an amount of money we accept. The message is for them."""


_ALLOWED = re.compile(r"^\d+(\.\d+)?$")


def parse_pounds(text: str) -> int:
    """'1,250.50' -> 125050. Refuses negatives, more than 2 decimal places and anything else."""
    cleaned = (text or "").strip().replace(",", "").replace(" ", "")
    if cleaned.startswith("£"):
        cleaned = cleaned[1:]
    if not cleaned:
        raise MoneyError("Enter an amount in pounds and pence, for example 1,250.50")
    if cleaned.startswith("-"):
        raise MoneyError("The amount cannot be negative")
    if not _ALLOWED.match(cleaned):
        raise MoneyError("Enter an amount in pounds and pence using numbers only, like 1,250.50")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the pattern already rules this out
        raise MoneyError("Enter an amount in pounds and pence, for example 1,250.50") from exc
    exponent = amount.as_tuple().exponent
    assert isinstance(exponent, int)  # finite: the pattern rules out NaN and Infinity
    if -exponent > 2 and amount != amount.quantize(Decimal("0.01")):
        raise MoneyError(
            "The amount must be in pounds and pence, with no more than 2 decimal places"
        )
    pence = amount * 100
    if pence != pence.to_integral_value():  # pragma: no cover - guarded above
        raise MoneyError("The amount must be in pounds and pence")
    if pence > 10**15:
        raise MoneyError("The amount is too large")
    return int(pence)


def format_pence(pence: int | None, *, whole: bool = False) -> str:
    """125050 -> '£1,250.50'; negative amounts keep their sign: '-£5.00'."""
    if pence is None:
        return "Not given"
    sign = "-" if pence < 0 else ""
    pounds, remainder = divmod(abs(int(pence)), 100)
    if whole and remainder == 0:
        return f"{sign}£{pounds:,}"
    return f"{sign}£{pounds:,}.{remainder:02d}"


def pence_to_input(pence: int | None) -> str:
    """The value to put back in a form field: 125050 -> '1250.50'."""
    if pence is None:
        return ""
    pounds, remainder = divmod(int(pence), 100)
    return f"{pounds}.{remainder:02d}"
