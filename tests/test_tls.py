"""Sites crawled over HTTPS: their certificates are checked (Scrapy's default checks none:
anyone on the path could serve forged news, and it was alerted), and a TLS failure is said in
words. A real HTTPS server on 127.0.0.1 with a certificate made here."""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from forwardproxy import ForwardProxy

STORY = ("The harbour authority closed the north basin tonight after the storm damaged the "
         "outer wall, and ferries will sail from the south quay until repairs are done. ") * 4


def certificate(directory: Path, *, days: int) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (valid ``days`` from now, or expired that
    long ago when negative), and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    start, end = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=days)) \
        if days > 0 else (now + datetime.timedelta(days=days - 30), now + datetime.timedelta(days=days))
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(end)
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / f"cert{days}.pem", directory / f"key{days}.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _Pages(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        base = f"https://127.0.0.1:{self.server.server_port}"
        if self.path == "/moved.rss":  # to plain HTTP, for good
            self.send_response(301)
            self.send_header("Location", self.server.moved_to)  # type: ignore[attr-defined]
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/feed.rss":
            body = (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Harbour News'
                    f"</title><item><title>Harbour closed tonight</title><link>{base}/storm"
                    "</link><description>The harbour is closed.</description></item>"
                    "</channel></rss>").encode()
            kind = "application/rss+xml"
        else:
            body = (f"<html><head><title>Harbour closed tonight</title></head><body><article>"
                    f"<h1>Harbour closed tonight</h1><p>{STORY}</p></article></body></html>"
                    ).encode()
            kind = "text/html; charset=utf-8"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(params=[30, -5], ids=["self-signed", "expired"])
def https_site(request, tmp_path) -> Iterator[tuple[str, Path]]:
    """A feed and its article over HTTPS on 127.0.0.1 (port 0); its certificate's path."""
    cert, key = certificate(tmp_path, days=request.param)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.moved_to = ""  # type: ignore[attr-defined]
    request.node.https_server = server
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}/feed.rss", cert
    finally:
        server.shutdown()
        server.server_close()


def stored(workdir) -> list[str]:
    return [json.loads(line)["title"] for line in workdir.newswatch("export").stdout.splitlines()]


def test_a_site_whose_certificate_cannot_be_verified_is_not_read(https_site, workdir):
    feed, _ = https_site
    workdir.write_config(sources=[feed])
    result = workdir.newswatch("crawl")
    assert result.returncode == 0, result.stderr
    assert (f"failed: {feed}: TLS failed: certificate verify failed (expired, not yet valid, "
            "self-signed, for another name or from an authority this machine does not trust; "
            "crawl.verify_tls = false fetches such sites anyway)") in result.stdout, result.stdout
    assert stored(workdir) == []
    assert "last error: TLS failed: certificate verify failed" in workdir.newswatch("status").stdout


def test_a_site_of_a_trusted_authority_or_one_allowed_unverified_is_read(
    https_site, workdir, request
):
    feed, cert = https_site
    if "expired" in request.node.callspec.id:  # trusted or not, an expired one is refused
        workdir.write_config(sources=[feed], crawl={"verify_tls": False})
    else:
        workdir.write_config(sources=[feed])
    result = workdir.newswatch("crawl", SSL_CERT_FILE=str(cert))
    assert result.returncode == 0, result.stderr
    assert "1 ok, 0 failed" in result.stdout, result.stdout
    assert stored(workdir) == ["Harbour closed tonight"]


def test_tls_and_connection_failures_are_said_in_words() -> None:
    """A source's last error was "DownloadFailedError: [<twisted.python.failure.Failure
    OpenSSL.SSL.Error: [('SSL routines', '', 'wrong version number')]>]" (a review)."""
    from OpenSSL import SSL
    from scrapy.exceptions import DownloadFailedError
    from twisted.internet.error import ConnectionLost
    from twisted.python.failure import Failure
    from twisted.web._newclient import ResponseNeverReceived

    from crawler.http import describe_failure

    def failed(reason: Exception) -> Failure:
        try:
            try:
                raise ResponseNeverReceived([Failure(reason)])
            except ResponseNeverReceived as exc:
                raise DownloadFailedError(str(exc)) from exc
        except DownloadFailedError:
            return Failure()

    assert describe_failure(failed(SSL.Error([("SSL routines", "", "wrong version number")]))) \
        == ("TLS failed: wrong version number (the server does not speak TLS there: plain HTTP "
            "on an https:// address?)")
    assert describe_failure(failed(SSL.Error([("SSL routines", "", "tlsv1 alert protocol "
                                               "version")]))) == (
        "TLS failed: tlsv1 alert protocol version (the server speaks only a TLS version too old "
        "to use)")
    assert describe_failure(failed(ConnectionLost())) == (
        "the connection was closed before the whole answer came")


@pytest.mark.parametrize("https_site", [30], indirect=True, ids=["self-signed"])
def test_a_permanent_redirect_to_plain_http_is_followed_not_kept(https_site, site, workdir,
                                                                  request):
    """One 301 from https:// to http:// (one forged answer on the path) made every later
    poll plain HTTP, without a word (a review): followed for the poll, not kept."""
    feed, cert = https_site
    request.node.https_server.moved_to = site.url("/feeds/world.rss")
    moved = feed.replace("/feed.rss", "/moved.rss")
    workdir.write_config(sources=[moved])
    for _ in range(2):
        result = workdir.newswatch("crawl", SSL_CERT_FILE=str(cert))
        assert result.returncode == 0 and "1 ok" in result.stdout, result.stdout
    assert len(site.requests_for("/feeds/world.rss")) == 2  # followed at both polls
    status = workdir.newswatch("status").stdout
    assert "permanent redirect" not in status and f"polled at: {site.url('/')}" not in status


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    server = ForwardProxy()
    yield server
    server.close()


@pytest.mark.parametrize("https_site", [30], indirect=True, ids=["self-signed"])
def test_a_site_over_https_is_read_through_the_proxy_and_its_refusal_said(https_site, workdir,
                                                                         proxy):
    """Through a company's proxy (https_proxy), an HTTPS site is reached by a CONNECT tunnel.
    The proxy's refusal of the tunnel (407: it asks for credentials, 403: its policy) was a
    source's last error as "TunnelError: Could not open CONNECT tunnel with proxy
    10.0.0.3:3128 [{'status': 407, 'reason': b'Proxy Authentication Required'}] (through the
    proxy 10.0.0.3:3128)": said as a plain HTTP site's is, the proxy named once."""
    feed, cert = https_site
    workdir.write_config(sources=[feed])
    env = {"https_proxy": proxy.url, "no_proxy": "", "SSL_CERT_FILE": str(cert)}
    result = workdir.newswatch("crawl", **env)
    assert "1 ok, 0 failed" in result.stdout, result.stdout
    assert stored(workdir) == ["Harbour closed tonight"]
    host = feed.split("/")[2]
    assert proxy.requests == [("CONNECT", host)] * 3  # the feed, robots.txt, the article
    for refusal in (407, 403):
        proxy.refuse = refusal
        result = workdir.newswatch("crawl", **env)
        assert f"failed: {feed}: HTTP {refusal} (through the proxy {proxy.address})\n" \
            in result.stdout, result.stdout
    assert f"last error: HTTP 403 (through the proxy {proxy.address})\n" \
        in workdir.newswatch("status").stdout
