"""Visitor facts from the address: country and network for IPv4 and IPv6 alike."""

import pytest

from tracking import visitor


@pytest.mark.parametrize(
    ("ip", "country", "asn_word"),
    [
        ("8.8.8.8", "US", "GOOGLE"),
        ("81.2.69.160", "GB", "Andrews"),
        ("2001:4860:4860::8888", "US", "GOOGLE"),
        ("2a00:1450:4001:82b::200e", "DE", "GOOGLE"),
        ("2a02:2e0:3fe:1001:302::", "DE", "Plus.line"),
    ],
)
def test_an_address_of_either_family_gets_a_country_and_a_network(
    ip: str, country: str, asn_word: str
) -> None:
    network = visitor.network_for_ip(ip)
    assert network.country == country
    assert asn_word in network.asn_name


@pytest.mark.parametrize("ip", ["::1", "127.0.0.1", "fe80::1", "10.1.2.3", "not-an-ip", "2001:db8::zz"])
def test_a_private_or_malformed_address_has_no_country(ip: str) -> None:
    assert visitor.network_for_ip(ip).country == ""


@pytest.mark.parametrize("ip", ["2600:1f18::1", "2a01:4f8::1", "2604:a880::1"])
def test_an_ipv6_hosting_network_counts_as_a_datacenter(ip: str) -> None:
    assert visitor.network_for_ip(ip).is_datacenter
