"""Texts guests read in their language (modeltranslation columns over the fixed language
superset, as crm's and loyalty's translated names)."""

from modeltranslation.translator import TranslationOptions, register

from crm.service.models import Question, Survey


@register(Survey)
class SurveyTranslation(TranslationOptions):
    fields = ("title", "intro")


@register(Question)
class QuestionTranslation(TranslationOptions):
    fields = ("text",)
