"""Built-in record types that upper layers (crm) register in ``AppConfig.ready()``.

metadata knows nothing about crm: it only keeps, per api name, the model that stores the
records (with a JSONB ``custom`` column), the module it belongs to and its labels."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models


@dataclass(frozen=True)
class BuiltinObject:
    api_name: str
    model: str  # "app_label.ModelName", resolved lazily (apps may not be ready yet)
    module: str
    label: str
    label_plural: str
    icon: str = ""
    color: str = ""
    # Standard columns that exist on the model, so custom fields cannot reuse the names.
    customisable: bool = True

    def model_class(self) -> type[models.Model]:
        from django.apps import apps

        return apps.get_model(self.model)


_builtin: dict[str, BuiltinObject] = {}


def builtin_object_register(obj: BuiltinObject) -> None:
    _builtin[obj.api_name] = obj


def builtin_objects() -> dict[str, BuiltinObject]:
    return dict(_builtin)


def builtin_object(api_name: str) -> BuiltinObject | None:
    return _builtin.get(api_name)
