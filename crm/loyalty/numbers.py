"""Member numbers: nine digits from a per-tenant sequence and a Luhn check digit, so a
mistyped digit or two swapped neighbours are caught at the desk before any lookup."""

from __future__ import annotations

from django.db import connection


def luhn_check_digit(digits: str) -> str:
    """The digit that makes ``digits`` + it pass the Luhn check."""
    total = 0
    # From the right, every second digit (starting with the last payload digit) doubled.
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def member_number_valid(number: str) -> bool:
    number = (number or "").strip()
    if len(number) < 2 or not number.isdigit():
        return False
    return luhn_check_digit(number[:-1]) == number[-1]


def member_number_next() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('loyalty_member_number_seq')")
        payload = f"{cursor.fetchone()[0]:09d}"
    return payload + luhn_check_digit(payload)
