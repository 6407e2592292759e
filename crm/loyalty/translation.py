"""Names shown to guests and staff in their language (modeltranslation columns over the
fixed language superset, as crm's own translated names)."""

from modeltranslation.translator import TranslationOptions, register

from crm.loyalty.models import Programme, Reward, Tier


@register(Programme)
class ProgrammeTranslation(TranslationOptions):
    fields = ("name",)


@register(Tier)
class TierTranslation(TranslationOptions):
    fields = ("name", "benefits")


@register(Reward)
class RewardTranslation(TranslationOptions):
    fields = ("name", "description")
