"""Translated fields (django-modeltranslation adds one column per language of the fixed
LANGUAGES superset, so a tenant enabling a language needs no schema change)."""

from modeltranslation.translator import TranslationOptions, register

from crm.models import Property, RatePlan, RoomType


@register(Property)
class PropertyTranslation(TranslationOptions):
    fields = ("name", "description")


@register(RoomType)
class RoomTypeTranslation(TranslationOptions):
    fields = ("name",)


@register(RatePlan)
class RatePlanTranslation(TranslationOptions):
    fields = ("name",)
