"""The email notice a researcher gets when a job finishes or fails (only when SMTP is set up).

Plain text only, built with the standard library's EmailMessage (which refuses header
injection); nothing from the upload but the counts goes into it. A failed send is logged and
never fails the job.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage

from shared.contract import JobState, JobStatus
from shared.settings import Settings

log = logging.getLogger(__name__)


def compose(settings: Settings, state: JobState) -> EmailMessage:
    # Only the configured address: links are never built from what a request claimed.
    base = (settings.public_url or state.base_url).rstrip("/")
    if not base:
        log.warning("TRAPLINE_PUBLIC_URL is not set: the notice carries links without a host")
    page = f"{base}/jobs/{state.id}"
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = state.email
    if state.status is JobStatus.FINISHED:
        s = state.summary
        videos = int(s.get("videos", 0))
        photos = int(s.get("images", 0)) - videos
        what = f"{photos} photos and {videos} videos" if videos else f"{photos} photos"
        kinds = "photos and videos have" if videos else "photos have"
        counted = f"Images: {photos}, videos: {videos}" if videos else f"Images: {photos}"
        message["Subject"] = f"Trapline: your {what} are ready"
        body = (
            f"Your camera-trap {kinds} been processed.\n\n"
            f"{counted}, animals in {s.get('animal', 0)}, people in "
            f"{s.get('person', 0)}, vehicles in {s.get('vehicle', 0)}, empty "
            f"{s.get('empty', 0)}, could not be read {s.get('errors', 0)}.\n"
            f"Model: {state.model}\n\n"
            f"Download the results (zip): {base}/download/{state.id}\n"
            f"Job page: {page}\n\n"
            f"Results are kept for {settings.results_max_age_days:g} days.\n"
        )
    else:
        message["Subject"] = "Trapline: your photos could not be processed"
        body = f"Your job could not be processed.\n\nReason: {state.error}\n\nJob page: {page}\n"
    message.set_content(body)
    return message


def send_notice(settings: Settings, state: JobState) -> bool:
    """Sends the notice if SMTP is configured; returns whether a message was handed over."""
    if not settings.smtp_host or not state.email:
        return False
    try:
        message = compose(settings, state)
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as smtp:
            if settings.smtp_starttls:
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    # Never fall back to plain text (and never send the password that way):
                    # a server that drops STARTTLS may be an attacker in the middle.
                    raise smtplib.SMTPNotSupportedError(
                        "the mail server does not offer STARTTLS, which TRAPLINE_SMTP_STARTTLS "
                        "asks for; nothing was sent"
                    )
                # the server's certificate and host name are checked against the system's CAs
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException, ValueError) as exc:
        log.warning("email notice to the submitter could not be sent: %s", exc)
        return False
    log.info("email notice sent (%s)", state.status.value)
    return True
