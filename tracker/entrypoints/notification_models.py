"""Requests and answers of customer notifications: an order's contacts, a customer's email."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    UrlConstraints,
    field_validator,
)

from tracker.webhook_signatures import signing_key

# http and https only (AnyHttpUrl), and a bound on what the network may send
ContactUrl = Annotated[AnyHttpUrl, UrlConstraints(max_length=500)]
MAX_EMAILS = 10
MAX_CUSTOMER_EMAILS = 3


class WebhookContact(BaseModel):
    """A receiver of the order's notices and the `whsec_` secret its posts are signed with."""

    model_config = ConfigDict(extra="forbid")

    url: ContactUrl
    secret: str = Field(
        max_length=120,
        description="`whsec_` and the base64 of 24-64 random bytes (Standard Webhooks); never "
        "shown again",
    )

    @field_validator("secret")
    @classmethod
    def _standard(cls, value: str) -> str:
        signing_key(value)  # ValueError without quoting it
        return value


class OrderNotifications(BaseModel):
    """Who hears when the order's promised date is at risk or back on time."""

    model_config = ConfigDict(extra="forbid")

    emails: list[EmailStr] = Field(default_factory=list, max_length=MAX_EMAILS)
    webhook: WebhookContact | None = None


class WebhookPublic(BaseModel):
    url: str
    signed: bool


class NotificationsPublic(BaseModel):
    """The order's contacts as staff read them back (a webhook's secret never)."""

    order_id: str
    emails: list[str] = Field(description="set by staff")
    customer_emails: list[str] = Field(description="added by the customer from their page")
    webhook: WebhookPublic | None
    email_delivery: bool = Field(description="false: no SMTP server set, emails are not sent")


class CustomerSubscription(BaseModel):
    """An email the customer wants their order's notices at."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr


class Subscribed(BaseModel):
    email: str
    email_delivery: bool = Field(description="false: no SMTP server set, emails are not sent")
