"""deploy/compose.citus.yaml, read as Compose would merge it over compose.yaml (no Docker
in the test run): a coordinator in place of `postgres`, two workers, and node setup
before migrations."""

from __future__ import annotations

from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def _services(name: str) -> dict:
    return yaml.safe_load((DEPLOY / name).read_text())["services"]


def test_the_coordinator_replaces_postgres_with_sharding_on():
    plain, citus = _services("compose.yaml"), _services("compose.citus.yaml")
    coordinator = citus["postgres"]
    assert "postgres" in plain
    assert coordinator["image"].startswith("${CITUS_IMAGE:-citusdata/citus:")
    assert "citus.enable_schema_based_sharding=on" in coordinator["command"]
    assert "wal_level=logical" in coordinator["command"]
    assert "citus.enable_unsafe_triggers=on" in coordinator["command"]
    assert "citus.propagate_set_commands=local" in coordinator["command"]


def test_two_workers_registered_before_migrations():
    citus = _services("compose.citus.yaml")
    workers = sorted(name for name in citus if name.startswith("citus-worker-"))
    assert workers == ["citus-worker-1", "citus-worker-2"]
    for worker in workers:
        assert citus[worker]["image"] == citus["postgres"]["image"]
        assert citus[worker]["command"] == ["postgres", "-c", "wal_level=logical"]

    setup = citus["citus-setup"]
    script = setup["command"][0]
    assert "SELECT citus_set_coordinator_host('postgres', 5432);" in script
    for worker in workers:
        assert f"SELECT citus_add_node('{worker}', 5432);" in script
        assert setup["depends_on"][worker] == {"condition": "service_healthy"}
    assert citus["migrate"]["depends_on"]["citus-setup"] == {
        "condition": "service_completed_successfully"
    }
