"""Languages of the browser UI: only the tenant's enabled languages are offered and used.

The request's language is, in order, the one the user picked (Django's language cookie,
set by ``set_language``), the best match of the browser's Accept-Language, then the
tenant's default language -- each only if the tenant has it enabled."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.middleware.locale import LocaleMiddleware
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation.trans_real import parse_accept_lang_header
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from tenants.context import current_tenant, current_zone

_NAMES = dict(settings.LANGUAGES)


def tenant_languages(tenant=None) -> list[tuple[str, str]]:
    """(code, name in its own language) for each language the tenant enabled, default
    first; on the public site, every language Atrium speaks."""
    tenant = tenant if tenant is not None else current_tenant()
    codes = list(getattr(tenant, "enabled_languages", None) or [])
    default = getattr(tenant, "default_language", None)
    if not codes:
        return list(settings.LANGUAGES)
    if default in codes:
        codes.remove(default)
        codes.insert(0, default)
    return [(code, _NAMES.get(code, code)) for code in codes if code in _NAMES]


def _pick(request, allowed: list[str], default: str) -> str:
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if chosen in allowed:
        return chosen
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        code = code.lower()
        if code in allowed:
            return code
        # zh-CN / zh-TW and friends: map to the script the region writes.
        if code.startswith("zh"):
            hant = code.startswith("zh-hant") or code in ("zh-tw", "zh-hk", "zh-mo")
            script = "zh-hant" if hant else "zh-hans"
            if script in allowed:
                return script
            continue  # the other script is not what this reader asked for
        base = code.split("-")[0]
        if base in allowed:
            return base
    return default


class TenantLocaleMiddleware(LocaleMiddleware):
    """Django's LocaleMiddleware, limited to the tenant's enabled languages. Screens also
    show times in the group's time zone (the zone a task's due time is typed in); the
    API keeps UTC."""

    def process_request(self, request):
        tenant = current_tenant()
        allowed = [code for code, _name in tenant_languages(tenant)]
        default = allowed[0] if allowed else settings.LANGUAGE_CODE
        language = _pick(request, allowed, default)
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        if not request.path.startswith("/api/"):
            timezone.activate(current_zone())

    def process_response(self, request, response):
        timezone.deactivate()  # the thread's next request starts from UTC
        return super().process_response(request, response)


def languages(request) -> dict:
    """Template context: the languages the switcher offers, whether the user sees the
    settings menu, and the tenant's own record types the user may open."""
    from tenants.access.principal import Principal

    user = getattr(request, "user", None)
    signed_in = bool(user is not None and user.is_authenticated and current_tenant() is not None)
    signed_in = signed_in and getattr(current_tenant(), "schema_name", "public") != "public"
    can: dict = {}
    records: list[dict] = []
    if signed_in:
        from saas.ui.custom_records import custom_objects_menu

        records = custom_objects_menu(user)
        actor = Principal.of(user)
        can = {
            name: actor.can(name, "view")
            for name in (
                "guest",
                "reservation",
                "company",
                "case",
                "survey_response",
                "loyalty_account",
                "analytics_report",
                "segment",
            )
        }
        if can["loyalty_account"]:
            from metadata.services.modules import module_enabled

            can["loyalty_account"] = module_enabled("loyalty")
    return {
        "ui_languages": tenant_languages(),
        "ui_is_admin": signed_in and Principal.of(user).is_admin,
        "ui_can": can,
        "ui_records": records,
    }


@require_POST
def set_language(request):
    """Django's ``set_language``, refusing languages the tenant has not enabled."""
    code = request.POST.get("language", "")
    if code not in {c for c, _name in tenant_languages()}:
        return HttpResponseBadRequest(
            _("%(code)s is not one of this workspace's languages.") % {"code": code or "-"}
        )
    return django_set_language(request)
