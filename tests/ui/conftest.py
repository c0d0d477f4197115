import pytest

from tests.ui.dagster_ui import start_ui


@pytest.fixture(scope="module")
def dagster_ui(tmp_path_factory):
    """The webserver and daemon over the example catalog, shared by a module's tests."""
    ui = start_ui(tmp_path_factory.mktemp("dagster-ui"))
    try:
        yield ui
    finally:
        ui.stop()
