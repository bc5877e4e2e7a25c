"""The names README and docs tell users to import still import, and each is the class it is documented as."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

import mockgw
from mockgw.core.errors import FixtureError as HomeFixtureError
from mockgw.core.errors import MockgwError
from mockgw.core.version import VERSION
from mockgw.gateway.config import Settings as HomeSettings
from mockgw.handle import LocalServer as HomeLocalServer
from mockgw.handle import MockgwHandle as HomeHandle
from mockgw.handle import RemoteServer as HomeRemoteServer
from mockgw.journal.calls import Call as HomeCall
from mockgw.server.runner import MockGateway as HomeGateway


def test_the_documented_names_import_from_mockgw() -> None:
    from mockgw import Call, FixtureError, MockGateway, MockgwHandle, Settings

    assert (MockGateway, Settings, MockgwHandle, Call, FixtureError) == (
        HomeGateway,
        HomeSettings,
        HomeHandle,
        HomeCall,
        HomeFixtureError,
    )
    assert all(isinstance(name, type) for name in (MockGateway, Settings, MockgwHandle, Call))
    assert issubclass(FixtureError, MockgwError) and issubclass(FixtureError, Exception)
    assert set(mockgw.__all__) == {
        *("Call", "FixtureError", "MockGateway", "MockgwHandle", "Settings", "__version__"),
        *("LocalServer", "RemoteServer", "MockgwError"),  # docs/pytest.md: a handle on a server of one's own
    }
    assert mockgw.__version__ == VERSION


def test_the_handles_servers_and_its_error_import_from_mockgw() -> None:
    exported = (mockgw.LocalServer, mockgw.RemoteServer, mockgw.MockgwError)
    assert exported == (HomeLocalServer, HomeRemoteServer, MockgwError)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Gateway'"):
        _ = mockgw.Gateway  # type: ignore[attr-defined]


def test_the_pytest_plugin_entry_point_loads_the_plugin() -> None:
    (plugin,) = [ep for ep in entry_points(group="pytest11") if ep.value.startswith("mockgw")]
    assert plugin.load().__name__ == "mockgw.plugin"
