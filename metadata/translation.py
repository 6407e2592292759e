"""Translated labels (one column per language of the fixed superset, so enabling a
language for a tenant needs no schema change)."""

from modeltranslation.translator import TranslationOptions, register

from metadata.models import FieldDefinition, ModuleDefinition, ObjectDefinition, Workflow


@register(ObjectDefinition)
class ObjectDefinitionTranslation(TranslationOptions):
    fields = ("label", "label_plural")


@register(FieldDefinition)
class FieldDefinitionTranslation(TranslationOptions):
    fields = ("label", "help_text")


@register(ModuleDefinition)
class ModuleDefinitionTranslation(TranslationOptions):
    fields = ("label",)


@register(Workflow)
class WorkflowTranslation(TranslationOptions):
    fields = ("name",)
