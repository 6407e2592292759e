"""Chinese descriptions of the built-in roles: 0002 seeded their names in the three
languages but their descriptions only in English, so the roles editor showed English
descriptions to Chinese readers. Only empty descriptions are filled (a tenant that
wrote its own keeps it); going back empties only the texts written here."""

from django.db import migrations
from django.db.models import Q

# key: (zh-hans, zh-hant)
DESCRIPTIONS = {
    "tenant_admin": (
        "配置 CRM，可查看全部内容，包括敏感字段。",
        "設定 CRM，可檢視全部內容，包括敏感欄位。",
    ),
    "general_manager": (
        "管理酒店：可处理所有记录，不能删除，不能查看敏感字段。",
        "管理酒店：可處理所有記錄，不能刪除，不能檢視敏感欄位。",
    ),
    "front_office": ("前台：到店、入住和宾客需求。", "前台：到店、入住和賓客需求。"),
    "reservations": ("预订部：预订、更改和取消。", "訂房部：訂房、更改和取消。"),
    "sales": (
        "团体、企业和会展销售：客户、线索和合同。",
        "團體、企業和會展銷售：客戶、線索和合約。",
    ),
    "marketing": ("细分、营销活动和会员忠诚度。", "分眾、行銷活動和會員忠誠度。"),
    "service_agent": ("服务中心：投诉、需求和跟进。", "服務中心：投訴、需求和跟進。"),
    "read_only": (
        "查看所有记录（不含敏感字段和管理功能）；不能做任何更改。",
        "檢視所有記錄（不含敏感欄位和管理功能）；不能做任何更改。",
    ),
}
COLUMNS = ("description_zh_hans", "description_zh_hant")


def fill(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for key, texts in DESCRIPTIONS.items():
        for column, text in zip(COLUMNS, texts, strict=True):
            empty = Q(**{f"{column}__isnull": True}) | Q(**{column: ""})
            Role.objects.filter(empty, key=key, is_system=True).update(**{column: text})


def empty(apps, schema_editor):
    Role = apps.get_model("access", "Role")
    for key, texts in DESCRIPTIONS.items():
        for column, text in zip(COLUMNS, texts, strict=True):
            Role.objects.filter(key=key, is_system=True, **{column: text}).update(**{column: None})


class Migration(migrations.Migration):
    dependencies = [("access", "0006_access_state")]

    operations = [migrations.RunPython(fill, empty)]
