"""E-mail over SMTP (smtplib): plain, STARTTLS or implicit TLS, optional login, with a timeout.

A message with `html` goes out as multipart/alternative (text/plain, then text/html); with
attachments the whole is wrapped in multipart/mixed.

A message with a `reference` (the delivery's dedupe key) gets a Message-ID derived from it, so
the copy a worker sends again after dying mid-send (at least once, notify.deliveries) carries
the same Message-ID as the first and mail servers and clients that drop repeated Message-IDs
show it once."""

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from loandesk.notify.channels.base import (
    DEFAULT_TIMEOUT,
    DeliveryError,
    OutgoingMessage,
    SendResult,
)

SECURITY = ("none", "starttls", "ssl")


class SmtpMailer:
    name = "smtp"

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        sender_name: str = "",
        username: str = "",
        password: str = "",
        security: str = "starttls",
        timeout: float = DEFAULT_TIMEOUT,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not host or not sender:
            raise DeliveryError("SMTP host and sender are not configured", retryable=False)
        if security not in SECURITY:
            raise DeliveryError(f"unknown SMTP security {security!r}", retryable=False)
        self.host, self.port, self.sender, self.sender_name = host, int(port), sender, sender_name
        self.username, self.password, self.security = username, password, security
        self.timeout = timeout
        self.ssl_context = ssl_context or ssl.create_default_context()

    def build(self, message: OutgoingMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = (
            formataddr((self.sender_name, self.sender)) if self.sender_name else self.sender
        )
        mail["To"] = message.to
        mail["Subject"] = message.subject or "LoanDesk"
        domain = self.sender.rpartition("@")[2]
        if message.reference:
            digest = hashlib.sha256(f"{self.sender}\n{message.reference}".encode()).hexdigest()
            mail["Message-ID"] = f"<{digest[:40]}@{domain or 'loandesk.local'}>"
            mail["X-LoanDesk-Delivery"] = message.reference
        else:
            mail["Message-ID"] = make_msgid(domain=domain or None)
        mail.set_content(message.body)
        if message.html:
            mail.add_alternative(message.html, subtype="html")
        for item in message.attachments:
            maintype, _, subtype = item.content_type.partition("/")
            mail.add_attachment(
                item.content,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=item.filename,
            )
        return mail

    def send(self, message: OutgoingMessage) -> SendResult:
        mail = self.build(message)
        try:
            client: smtplib.SMTP
            if self.security == "ssl":
                client = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=self.timeout, context=self.ssl_context
                )
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                if self.security == "starttls":
                    client.starttls(context=self.ssl_context)
                if self.username:
                    client.login(self.username, self.password)
                refused = client.send_message(mail)
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP login failed: {exc.smtp_code}", retryable=False) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"SMTP refused the recipient: {exc}", retryable=False) from None
        except smtplib.SMTPResponseException as exc:
            retryable = 400 <= exc.smtp_code < 500
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", retryable=retryable
            ) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP error: {exc}") from None
        if refused:
            raise DeliveryError(f"SMTP refused: {sorted(refused)}", retryable=False)
        return SendResult(provider_ref=str(mail["Message-ID"]), detail="accepted")
