"""A marketing e-mail from its template text: HTML with inlined styles (what mail clients
keep) and a plain-text part.

The text is paragraphs separated by blank lines, ``{{ merge.fields }}`` from the
workflows' allowlist (``metadata.workflows.templating``: substitution only, no code) and
``[label](https://...)`` links. Links are found in the template's own text, before any
merge field is substituted, so a guest's name can never add a link; merged values are
HTML-escaped."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from django.core.exceptions import ValidationError

from metadata.workflows import templating

LINK_RE = re.compile(r"\[([^\[\]\n]{1,200})\]\((https?://[^\s()<>\"']{1,2000})\)")
# The merge fields a campaign offers (a subset of the workflows' roots).
ROOTS = frozenset({"guest", "today", "unsubscribe_url", "offer"})
LANGUAGES = ("en", "zh-hans", "zh-hant", "ja", "fr", "de", "es", "pt")
FOOTER = {
    "en": "You receive this because you agreed to hear from us. Unsubscribe",
    "zh-hans": "您收到此邮件是因为您同意接收我们的信息。退订",
    "zh-hant": "您收到此郵件是因為您同意接收我們的資訊。取消訂閱",
}


def text_clean(value: str, key: str, *, limit: int) -> str:
    """Template text: length, merge fields from the allowlist, no template tags, links
    only to http(s)."""
    if not isinstance(value, str):
        raise ValidationError({key: "Give text."})
    if len(value) > limit:
        raise ValidationError({key: f"At most {limit} characters."})
    if "{%" in value or "\x00" in value:
        raise ValidationError({key: "Only {{ merge.fields }} are allowed; no {% tags %}."})
    for variable in templating.template_variables(value):
        if (
            not templating.VARIABLE_RE.fullmatch(f"{{{{ {variable} }}}}")
            or variable.split(".")[0] not in ROOTS
        ):
            raise ValidationError(
                {
                    key: f"Unknown merge field {{{{ {variable} }}}}; merge fields start with "
                    f"{', '.join(sorted(ROOTS))}."
                }
            )
    return value


def contents_clean(contents: object) -> dict[str, dict[str, str]]:
    """``{"en": {"subject", "preheader", "body"}, "zh-hans": {...}}``."""
    if not isinstance(contents, dict) or not contents:
        raise ValidationError({"contents": 'Give the text per language: {"en": {...}}.'})
    out: dict[str, dict[str, str]] = {}
    for language, content in contents.items():
        key = f"contents.{language}"
        if language not in LANGUAGES:
            raise ValidationError({key: f"{language} is not a supported language."})
        if not isinstance(content, dict) or set(content) - {"subject", "preheader", "body"}:
            raise ValidationError({key: 'Give {"subject", "preheader", "body"}.'})
        subject = text_clean(content.get("subject") or "", f"{key}.subject", limit=300)
        body = text_clean(content.get("body") or "", f"{key}.body", limit=100_000)
        if not subject.strip():
            raise ValidationError({f"{key}.subject": "The subject is required."})
        if not body.strip():
            raise ValidationError({f"{key}.body": "The body is required."})
        out[language] = {
            "subject": subject,
            "preheader": text_clean(content.get("preheader") or "", f"{key}.preheader", limit=300),
            "body": body,
        }
    return out


def message_links(body: str) -> list[str]:
    return [m.group(2) for m in LINK_RE.finditer(body or "")]


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    links: tuple[str, ...]


def render(
    content: dict[str, str],
    context: dict,
    *,
    language: str,
    unsubscribe_url: str = "",
    link: Callable[[str], str] = lambda url: url,
    open_pixel_url: str = "",
) -> Rendered:
    """The message in ``language``; ``link`` maps each link of the text to the URL put
    in the HTML (the click tracker), the plain text keeps the real URL."""
    context = {**context, "unsubscribe_url": unsubscribe_url}

    def merged(text: str) -> str:
        return templating.render(text, context, language=language)

    subject = " ".join(merged(content["subject"]).split())[:300]
    preheader = merged(content.get("preheader") or "")
    text_parts: list[str] = []
    html_parts: list[str] = []
    for paragraph in re.split(r"\n\s*\n", (content.get("body") or "").strip()):
        text_out, html_out, last = [], [], 0
        for match in LINK_RE.finditer(paragraph):
            before = merged(paragraph[last : match.start()])
            label = merged(match.group(1))
            url = match.group(2)
            text_out += [before, f"{label} ({url})"]
            html_out += [
                escape(before).replace("\n", "<br>"),
                f'<a href="{escape(link(url))}" style="color:#1a5fb4;text-decoration:underline">'
                f"{escape(label)}</a>",
            ]
            last = match.end()
        tail = merged(paragraph[last:])
        text_out.append(tail)
        html_out.append(escape(tail).replace("\n", "<br>"))
        text_parts.append("".join(text_out))
        html_parts.append(
            '<p style="margin:0 0 16px 0;font-family:Helvetica,Arial,sans-serif;'
            f'font-size:15px;line-height:1.5;color:#222222">{"".join(html_out)}</p>'
        )
    footer = FOOTER.get(language, FOOTER["en"])
    text = "\n\n".join(text_parts)
    if unsubscribe_url:
        text += f"\n\n--\n{footer}: {unsubscribe_url}"
    hidden = (
        '<div style="display:none;max-height:0;overflow:hidden;mso-hide:all">'
        f"{escape(preheader)}</div>"
        if preheader
        else ""
    )
    unsubscribe = (
        '<p style="margin:24px 0 0 0;font-family:Helvetica,Arial,sans-serif;font-size:12px;'
        f'color:#777777"><a href="{escape(unsubscribe_url)}" style="color:#777777">'
        f"{escape(footer)}</a></p>"
        if unsubscribe_url
        else ""
    )
    pixel = (
        f'<img src="{escape(open_pixel_url)}" width="1" height="1" alt="" '
        'style="display:block;border:0">'
        if open_pixel_url
        else ""
    )
    html = (
        f'<!DOCTYPE html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(subject)}</title></head>"
        '<body style="margin:0;padding:0;background:#f4f4f4">'
        f"{hidden}"
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="background:#f4f4f4"><tr><td align="center" style="padding:24px 12px">'
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" '
        'style="max-width:600px;background:#ffffff"><tr><td style="padding:32px 24px">'
        f"{''.join(html_parts)}{unsubscribe}"
        f"</td></tr></table></td></tr></table>{pixel}</body></html>"
    )
    return Rendered(
        subject=subject,
        text=text,
        html=html,
        links=tuple(message_links(content.get("body") or "")),
    )
