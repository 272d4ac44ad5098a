"""The email notice, received by a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import free_port
from tests.processes import state_of
from tests.web.helpers import SCRIPT, form, photo, zip_of


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def mailing(settings, smtp):
    controller, _ = smtp
    return settings.with_overrides(
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_starttls=False,
        smtp_from="trapline@example.org",
        public_url="https://traps.example.org",
    )


def submit(client, files) -> str:
    response = client.post(
        "/api/jobs",
        data=form(email="Ranger.Ana@example.org", files=files),
        content_type="multipart/form-data",
        headers=SCRIPT,
    )
    assert response.status_code == 201
    return response.get_json()["id"]


def run_with(settings, redis_conn) -> None:
    from rq.serializers import JSONSerializer

    from model_server.detectors import load_detector
    from model_server.service import jobs
    from model_server.service.worker import TraplineWorker
    from shared.contract import job_queue
    from shared.store import open_configured_store

    jobs.install(load_detector(settings.model_path), settings, open_configured_store(settings))
    TraplineWorker([job_queue(redis_conn)], connection=redis_conn, serializer=JSONSerializer).work(
        burst=True
    )


def test_finished_job_sends_link_and_summary(client, mailing, smtp, redis_conn) -> None:
    _, inbox = smtp
    job_id = submit(client, [(photo(1), "a.jpg"), (photo(2), "b.jpg"), (b"junk", "c.jpg")])
    run_with(mailing, redis_conn)
    assert len(inbox.messages) == 1
    mail = inbox.messages[0]
    assert mail["To"] == "Ranger.Ana@example.org" and mail["From"] == "trapline@example.org"
    assert mail["Subject"] == "Trapline: your 3 photos are ready"
    body = mail.get_content()
    assert f"https://traps.example.org/download/{job_id}" in body
    assert (
        "Images: 3, animals in 2, people in 2, vehicles in 0, empty 0, could not be read 1." in body
    )
    assert "red_patch_md.pb" in body


def test_failed_job_sends_the_reason(client, mailing, smtp, redis_conn, settings) -> None:
    _, inbox = smtp
    job_id = submit(client, [(zip_of({"a.jpg": photo()}), "card.zip")])
    from shared.storage import Storage

    (Storage(settings.data_dir).upload_dir(job_id) / "card.zip").write_bytes(b"damaged on disk")
    run_with(mailing, redis_conn)
    assert state_of(redis_conn, job_id).status.value == "failed"
    mail = inbox.messages[0]
    assert mail["Subject"] == "Trapline: your photos could not be processed"
    assert "not a readable zip file" in mail.get_content()


def test_without_smtp_nothing_is_sent_and_nothing_breaks(
    client, run_worker, smtp, redis_conn
) -> None:
    _, inbox = smtp
    job_id = submit(client, [(photo(), "a.jpg")])
    run_worker()
    assert state_of(redis_conn, job_id).status.value == "finished" and inbox.messages == []


def test_unreachable_smtp_does_not_fail_the_job(client, settings, redis_conn, caplog) -> None:
    broken = settings.with_overrides(
        smtp_host="127.0.0.1", smtp_port=free_port(), smtp_starttls=False
    )
    job_id = submit(client, [(photo(), "a.jpg")])
    run_with(broken, redis_conn)
    assert state_of(redis_conn, job_id).status.value == "finished"
    assert "email notice to the submitter could not be sent" in caplog.text


def test_starttls_asked_for_but_not_offered_sends_nothing(
    client, settings, smtp, redis_conn, caplog
) -> None:
    """A server (or a man in the middle) that drops STARTTLS gets no mail and no password."""
    controller, inbox = smtp
    secure = settings.with_overrides(
        smtp_host="127.0.0.1",
        smtp_port=controller.port,
        smtp_starttls=True,
        smtp_user="trapline",
        smtp_password="secret",
    )
    job_id = submit(client, [(photo(), "a.jpg")])
    run_with(secure, redis_conn)
    assert state_of(redis_conn, job_id).status.value == "finished"
    assert inbox.messages == []
    assert "does not offer STARTTLS" in caplog.text


def test_starttls_checks_the_servers_certificate(
    client, settings, redis_conn, tmp_path, caplog
) -> None:
    """A self-signed certificate is refused: the notice is not sent over an unverified link."""
    import ssl
    import subprocess

    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context)
    controller.start()
    try:
        secure = settings.with_overrides(
            smtp_host="127.0.0.1", smtp_port=controller.port, smtp_starttls=True
        )
        job_id = submit(client, [(photo(), "a.jpg")])
        run_with(secure, redis_conn)
    finally:
        controller.stop()
    assert state_of(redis_conn, job_id).status.value == "finished"
    assert inbox.messages == []
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text


def test_a_forged_host_header_never_reaches_the_email(client, settings, smtp, redis_conn) -> None:
    controller, inbox = smtp
    response = client.post(
        "/api/jobs",
        data=form(email="ana@example.org", files=[(photo(), "a.jpg")]),
        content_type="multipart/form-data",
        headers={"Host": "evil.example", **SCRIPT},
    )
    assert response.status_code == 201
    plain = settings.with_overrides(
        smtp_host="127.0.0.1", smtp_port=controller.port, smtp_starttls=False
    )
    run_with(plain, redis_conn)
    body = inbox.messages[0].get_content()
    assert "evil.example" not in body
    assert f"/download/{response.get_json()['id']}" in body


def test_production_requires_the_public_address() -> None:
    from shared.errors import SettingsError
    from shared.settings import Settings

    env = {"TRAPLINE_PRODUCTION": "true", "TRAPLINE_SECRET_KEY": "x" * 40}
    with pytest.raises(SettingsError, match="TRAPLINE_PUBLIC_URL must be set in production"):
        Settings.from_env(env)
    assert (
        Settings.from_env({**env, "TRAPLINE_PUBLIC_URL": "https://t.example.org/"}).public_url
        == "https://t.example.org"
    )
