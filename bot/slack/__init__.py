"""The Slack front end: slash commands, approval buttons and requester DMs (slack-bolt AsyncApp).

A thin translator: it parses what Slack sends, calls one use case of `AccessService`, and
renders the result (and the workflow's events) as Block Kit. It never changes state itself.
Nothing here runs at import time; `bot.slack.routes.install` wires it from the composition root.
"""
