from __future__ import annotations

import json

import pytest

from bitdust.main.errors import InvalidInput
from bitdust.main.settings.network_config import IdServerAddress, load_network_config, parse_server_address


def test_missing_file_is_an_empty_network(tmp_path):
    config = load_network_config(tmp_path / "none.json")
    assert config.identity_servers == () and config.dht_seeds == ()


def test_reads_servers_and_seeds(tmp_path):
    path = tmp_path / "net.json"
    path.write_text(
        json.dumps(
            {
                "identity-servers": [{"host": "127.0.0.1", "http_port": 8084, "name": "id-a"}],
                "dht-seeds": [{"host": "127.0.0.1", "udp_port": 14441}],
            }
        )
    )
    config = load_network_config(path)
    assert config.identity_servers == (IdServerAddress("127.0.0.1", 8084, "id-a"),)
    assert config.identity_servers[0].address == "127.0.0.1:8084"
    assert config.to_json()["dht-seeds"] == [{"host": "127.0.0.1", "udp_port": 14441}]


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"identity-servers": {}}',
        '{"identity-servers": [{"host": "x"}]}',
        '{"identity-servers": [{"host": "x", "http_port": 70000}]}',
        '{"identity-servers": ["x"]}',
        '{"dht-seeds": [1]}',
    ],
)
def test_bad_files_are_refused_with_the_path(tmp_path, content):
    path = tmp_path / "net.json"
    path.write_text(content)
    with pytest.raises(InvalidInput, match="net.json"):
        load_network_config(path)


@pytest.mark.parametrize("text", ["host", "host:", ":80", "host:abc", "host:0", "host:65536"])
def test_bad_server_addresses(text):
    with pytest.raises(InvalidInput):
        parse_server_address(text)


def test_server_address():
    assert parse_server_address("ID.example.com:8084") == IdServerAddress("id.example.com", 8084)
