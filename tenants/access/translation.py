from modeltranslation.translator import TranslationOptions, register

from tenants.access.models import Role


@register(Role)
class RoleTranslation(TranslationOptions):
    fields = ("name", "description")
