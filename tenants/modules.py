"""Catalogue of CRM modules a tenant can switch on and off.

Upper layers (crm, later tenant-defined modules in metadata) register their modules
here in ``AppConfig.ready()``; tenants only stores which keys each tenant enabled."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Module:
    key: str
    label: str
    default_enabled: bool = True
    core: bool = False  # core modules cannot be switched off


_catalogue: dict[str, Module] = {}


def register_module(module: Module) -> None:
    _catalogue[module.key] = module


def module_catalogue() -> dict[str, Module]:
    return dict(_catalogue)


def default_module_keys() -> list[str]:
    return [key for key, module in _catalogue.items() if module.default_enabled]
