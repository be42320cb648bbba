"""devctl.cluster.observe: the shape of docker inspect and of devctl's ConfigMaps, read once."""

from __future__ import annotations

from typing import Any

import pytest

from devctl.cluster.observe import read_hosting, registry_state


def real_inspect(**over: Any) -> dict[str, Any]:
    """The parts of a real `docker inspect` of kind's registry that devctl reads (kind.md §6)."""
    info: dict[str, Any] = {
        "State": {"Status": "running", "Running": True},
        "Config": {"Image": "registry:2"},
        "HostConfig": {"PortBindings": {"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": "5001"}]}},
        "NetworkSettings": {"Networks": {"bridge": {}, "kind": {}}},
    }
    info.update(over)
    return info


def test_registry_state_reads_state_image_networks_and_the_published_port() -> None:
    st = registry_state("kind-registry", real_inspect())
    assert (st.state, st.running, st.image) == ("running", True, "registry:2")
    assert st.networks == ("bridge", "kind")
    assert (st.host_ip, st.host_port) == ("127.0.0.1", 5001)


def test_a_stopped_unpublished_registry_reads_as_such() -> None:
    st = registry_state(
        "kind-registry",
        real_inspect(State={"Status": "exited", "Running": False}, HostConfig={"PortBindings": {}}),
    )
    assert (st.state, st.running, st.host_port, st.host_ip) == ("exited", False, None, None)


def test_only_the_binding_of_container_port_5000_counts() -> None:
    st = registry_state(
        "kind-registry",
        real_inspect(HostConfig={"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}}),
    )
    assert st.host_port is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"localRegistryHosting.v1": 'host: "localhost:5001"\nhelp: "x"\n'}, {"host": "localhost:5001", "help": "x"}),
        ({"localRegistryHosting.v1": "- a list"}, None),
        ({"localRegistryHosting.v1": "host: [unclosed"}, None),
        ({"localRegistryHosting.v1": "# kind's docs\nhost: localhost:5001\n"}, {"host": "localhost:5001"}),
        ({}, None),
    ],
    ids=["KEP document", "not a mapping", "not YAML", "plain scalars and a comment", "no key"],
)
def test_the_kep_1755_value_is_read_as_yaml(data: dict[str, str], expected: dict[str, str] | None) -> None:
    assert read_hosting({"data": data}) == expected


def test_the_value_devctl_writes_reads_back_as_published() -> None:
    import json

    from devctl.cluster.plan import wanted_hosting
    from devctl.cluster.registry import HOSTING_HELP, hosting_manifest
    from devctl.cluster.spec import ClusterSpec
    from devctl.config import Config

    spec = ClusterSpec.from_config(Config())
    configmap = json.loads(hosting_manifest(spec, 5001))
    assert read_hosting(configmap) == wanted_hosting(spec, 5001) | {"help": HOSTING_HELP}
