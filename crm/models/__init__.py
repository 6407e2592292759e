"""The daily data of a hotel group. These tables live in each tenant's schema."""

from crm.models.activities import Activity
from crm.models.audit import PrivacyRequest, RecordChange
from crm.models.cases import Case
from crm.models.companies import Company, CompanyContact
from crm.models.dedupe import DuplicateSuggestion, MergeLog
from crm.models.guests import (
    CustomerType,
    Guest,
    GuestAddress,
    GuestConsent,
    GuestEmail,
    GuestExternalId,
    GuestPhone,
    GuestPreference,
)
from crm.models.imports import ImportUpload
from crm.models.properties import ExchangeRate, Property, RatePlan, RoomType
from crm.models.reservations import FolioLine, Payment, Reservation, ReservationGuest

__all__ = [
    "Activity",
    "Case",
    "Company",
    "CompanyContact",
    "CustomerType",
    "DuplicateSuggestion",
    "ExchangeRate",
    "FolioLine",
    "Guest",
    "GuestAddress",
    "GuestConsent",
    "GuestEmail",
    "GuestExternalId",
    "GuestPhone",
    "GuestPreference",
    "ImportUpload",
    "MergeLog",
    "Payment",
    "PrivacyRequest",
    "Property",
    "RatePlan",
    "RecordChange",
    "Reservation",
    "ReservationGuest",
    "RoomType",
]
