"""Recording from an https upstream: `mockgw serve` skips loading the CA bundle for aiohttp's unused default
client contexts at start (server/tls.py), and still verifies the upstream's certificate, against the system CAs
or the bundle SSL_CERT_FILE names, as any Python client does."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from tests.record.conftest import KEY
from tests.record.foreign import ForeignGateway
from tests.support import rawhttp
from tests.support.serve import served

TLS = Path(__file__).parent.parent / "data" / "tls"  # a test CA and a certificate it signed for 127.0.0.1


@pytest.fixture
def https_upstream() -> Iterator[ForeignGateway]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS / "upstream.pem", TLS / "upstream.key")
    server = ForeignGateway(tls=context).start()
    yield server
    server.stop()


def test_an_https_upstream_signed_by_a_trusted_ca_is_recorded(https_upstream: ForeignGateway, tmp_path: Path) -> None:
    out = tmp_path / "recordings"
    record = ("--record", "new", "--upstream", https_upstream.url, "--out", str(out))
    with served(*record, env={"SSL_CERT_FILE": str(TLS / "ca.pem")}) as server:
        client = openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=0)
        answer = client.chat.completions.create(
            model="openai/gpt-4o", messages=[{"role": "user", "content": "hello over tls"}]
        )
    assert answer.choices[0].message.content == "Bonjour from the foreign gateway"
    assert "hello over tls" in (out / "recorded.yaml").read_text(encoding="utf-8")


def test_an_https_upstream_whose_certificate_is_not_trusted_is_not_reached(
    https_upstream: ForeignGateway, tmp_path: Path
) -> None:
    record = ("--record", "new", "--upstream", https_upstream.url, "--out", str(tmp_path / "recordings"))
    with served(*record) as server:  # the test CA is in no trusted bundle
        answer = rawhttp.chat(server.port, {"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    assert answer.status == 502
    assert "certificate verify failed" in answer.error["message"]
    assert https_upstream.seen == []
    assert not (tmp_path / "recordings" / "recorded.yaml").exists()
