"""The Microsoft Teams front end (Bot Framework, botbuilder CloudAdapter) at ``POST /api/messages``.

Thin translator: an activity is parsed with the shared grammar (`workflows.commands`), a use
case of `AccessService` is called, and the result is rendered as text or an Adaptive Card.
Workflow events are rendered proactively by `bot.teams.notifier`. Nothing is built at import.
"""
