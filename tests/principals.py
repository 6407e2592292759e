"""Principals for tests that set up data directly through the services."""

from tenants.access.principal import Principal

# Fixtures and arrangements act as the platform; tests of rights build their own.
SYSTEM = Principal.system("tests")
