"""The install line as the README writes it: a wheel built from the clone, installed into a fresh virtualenv.

One test on purpose (it builds and installs once): the wheel holds every subpackage and every schema, and from
the fresh venv both `mockgw serve` and the pytest plugin work.
"""

from __future__ import annotations

import json
import re
import selectors
import signal
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path
from subprocess import PIPE

from tests.conftest import network_env

REPO = Path(__file__).resolve().parents[2]
PIP = ["-m", "pip", "--disable-pip-version-check", "--quiet"]

PLUGIN_TEST = """\
def test_answers(mockgw):
    import json, urllib.request
    request = urllib.request.Request(
        mockgw.url + "/chat/completions",
        data=json.dumps({"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]}).encode(),
        headers={"Authorization": "Bearer sk-test", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as answer:
        assert json.load(answer)["object"] == "chat.completion"
    mockgw.assert_called(times=1)
"""


def _start(*args: str | Path, cwd: Path = REPO) -> subprocess.Popen[str]:
    argv = [str(a) for a in args]
    return subprocess.Popen(argv, cwd=cwd, env=network_env(), stdout=PIPE, stderr=PIPE, text=True)


def _finish(process: subprocess.Popen[str]) -> str:
    """Its output, once it has exited 0."""
    out, err = process.communicate(timeout=600)
    assert process.returncode == 0, out + err
    return out


def _run(*args: str | Path, cwd: Path = REPO) -> str:
    return _finish(_start(*args, cwd=cwd))


# The OpenAPI document is what scripts/gen_schemas.py reads to write mockgw/schemas/*.json: the wheel needs only those.
BUILD_INPUTS = ("mockgw/schemas/openapi/",)


def _expected_members() -> set[str]:
    """Every file of the package: each subpackage's modules, the generated schemas, the inspector's page, py.typed."""
    files = (p for p in (REPO / "mockgw").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    members = {p.relative_to(REPO).as_posix() for p in files if p.suffix != ".pyc"}
    return {m for m in members if not m.startswith(BUILD_INPUTS)}


def test_the_expected_members_name_every_subpackage_and_schema() -> None:
    expected = _expected_members()
    packages = {p.parent.relative_to(REPO).as_posix() for p in (REPO / "mockgw").rglob("__init__.py")}
    assert {"mockgw/core", "mockgw/faults/kinds", "mockgw/server", "mockgw/ui"} <= packages
    assert {f"{package}/__init__.py" for package in packages} <= expected
    assert {"mockgw/schemas/fixture.schema.json", "mockgw/schemas/config.schema.json", "mockgw/py.typed"} <= expected
    assert "mockgw/ui/static/index.html" in expected


def test_the_wheel_installs_into_a_fresh_venv_and_serves(tmp_path: Path) -> None:
    # The fresh venv is made while the wheel builds. It has no pip of its own: this one installs into it
    # (`pip --python`), which spares ensurepip's ~2.5 s of CPU; nor does it compile the installed modules ahead.
    venv = tmp_path / "venv"
    making_venv = _start(sys.executable, "-m", "venv", "--without-pip", venv)
    _run(sys.executable, *PIP, "wheel", "--no-deps", "--wheel-dir", tmp_path / "dist", REPO)
    (wheel,) = (tmp_path / "dist").glob("mockgw-*.whl")
    members = set(zipfile.ZipFile(wheel).namelist())
    assert _expected_members() <= members, sorted(_expected_members() - members)
    _finish(making_venv)
    python = venv / "bin" / "python"
    _run(sys.executable, *PIP, "--python", python, "install", "--no-compile", wheel, "pytest")

    # the plugin, from a user's test file, runs while `mockgw serve` is tried
    (tmp_path / "test_user.py").write_text(PLUGIN_TEST)
    user_suite = _start(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_user.py", cwd=tmp_path)
    server = subprocess.Popen(
        [venv / "bin" / "mockgw", "serve", "--port", "0"], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(server.stdout, selectors.EVENT_READ)
            assert selector.select(timeout=60), "the installed mockgw printed nothing within a minute"
        found = re.search(r"serving (http://\S+/v1) ", server.stdout.readline())
        assert found
        request = urllib.request.Request(found.group(1) + "/models", headers={"Authorization": "Bearer sk-test"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.load(answer)["object"] == "list"
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0

    assert "1 passed" in _finish(user_suite)
