"""The modals: the `/access` request form and the deny form (with an optional reason)."""

from __future__ import annotations

import json
from typing import Any

from bot.slack.blocks import (
    MAX_OPTIONS,
    MODAL_TITLE_MAX,
    OPTION_TEXT_MAX,
    OPTION_VALUE_MAX,
    fit,
    person_label,
    plain,
    section,
)
from bot.slack.render import policy_range
from workflows.model import AccessRequest
from workflows.policy import Catalog, CustomerPolicy

# View callback ids: the contract between the modals we open and the handlers.
REQUEST_FORM = "access_request_form"
DENY_FORM = "access_deny_form"


def request_form(catalog: Catalog, private_metadata: dict[str, Any]) -> dict[str, Any]:
    """The `/access` modal: customer, duration, reason."""
    customers = list(catalog)[:MAX_OPTIONS]
    options = [
        {
            "text": plain(
                f"{c.display_name} ({policy_range(c)})",
                OPTION_TEXT_MAX,
            ),
            "value": c.key[:OPTION_VALUE_MAX],
        }
        for c in customers
    ]
    return {
        "type": "modal",
        "callback_id": REQUEST_FORM,
        "title": plain("Request access", MODAL_TITLE_MAX),
        "submit": plain("Request", MODAL_TITLE_MAX),
        "close": plain("Cancel", MODAL_TITLE_MAX),
        "private_metadata": json.dumps(private_metadata)[:3000],
        "blocks": [
            {
                "type": "input",
                "block_id": "customer",
                "label": plain("Customer", 2000),
                "element": {"type": "static_select", "action_id": "customer", "options": options},
            },
            {
                "type": "input",
                "block_id": "duration",
                "label": plain("Duration", 2000),
                "hint": plain("e.g. 30m, 4h, 1h30m; empty: the customer's default", 2000),
                "optional": True,
                "element": {"type": "plain_text_input", "action_id": "duration", "max_length": 12},
            },
            {
                "type": "input",
                "block_id": "reason",
                "label": plain("Reason", 2000),
                "optional": True,
                "element": {"type": "plain_text_input", "action_id": "reason", "multiline": True, "max_length": 500},
            },
        ],
    }


def deny_form(request: AccessRequest, policy: CustomerPolicy, private_metadata: dict[str, Any]) -> dict[str, Any]:
    """Deny with an optional reason (shown to the requester)."""
    who = person_label(request.requester.display_name, request.requester.upn)
    return {
        "type": "modal",
        "callback_id": DENY_FORM,
        "title": plain(f"Deny #{request.id}", MODAL_TITLE_MAX),
        "submit": plain("Deny", MODAL_TITLE_MAX),
        "close": plain("Back", MODAL_TITLE_MAX),
        "private_metadata": json.dumps(private_metadata)[:3000],
        "blocks": [
            section(f"Deny request *#{request.id}* from {who} for *{fit(policy.display_name, 200)}*?"),
            {
                "type": "input",
                "block_id": "note",
                "label": plain("Reason (the requester sees it)", 2000),
                "optional": True,
                "element": {"type": "plain_text_input", "action_id": "note", "multiline": True, "max_length": 500},
            },
        ],
    }
