"""Mainland mobile segments (号段), from the number plan ``phonenumbers`` ships.

A registration form must accept every segment in use. The list is derived, not typed in:
a three-digit prefix 130–199 counts as a segment when every number sampled across its
fourth and fifth digits is a valid mainland mobile number. That keeps whole segments
(162, 165, 167, 170, 171, 176, 192, 199 …) and leaves out prefixes with only a sliver of
mobile numbers (1740x satellite, 1610x), which no citizen's form should be judged on.
Upgrading ``phonenumbers`` brings in new segments as the numbering plan grows.
"""

from __future__ import annotations

import functools

import phonenumbers
from phonenumbers import PhoneNumberType

_MOBILE = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)
# The subscriber part of every sample; any digits do, these read as obviously made up.
_SAMPLE_TAIL = "345678"


def is_mainland_mobile(number: str) -> bool:
    """Whether ``number`` (11 digits, no prefix) is a valid mainland mobile number."""
    try:
        parsed = phonenumbers.parse(number, "CN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in _MOBILE


@functools.cache
def mainland_mobile_segments() -> tuple[str, ...]:
    """Every three-digit mobile segment in use, in numeric order."""
    return tuple(
        str(prefix)
        for prefix in range(130, 200)
        if all(is_mainland_mobile(f"{prefix}{middle:02d}{_SAMPLE_TAIL}") for middle in range(100))
    )


def sample_number(segment: str) -> str:
    """An 11-digit number of ``segment`` that the numbering plan calls a valid mobile.

    Raises ValueError when the segment holds no valid mobile number at all.
    """
    for middle in ("12", *(f"{n:02d}" for n in range(100))):
        number = f"{segment}{middle}{_SAMPLE_TAIL}"
        if is_mainland_mobile(number):
            return number
    raise ValueError(f"{segment} is not a mainland mobile segment")


def masked(phone: str) -> str:
    """A phone number as findings print it: 138****5678."""
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "****"
