"""accessbot's core: the access workflow, its policy and its ports.

Pure Python (stdlib only). Nothing here imports a chat, cloud or database library;
`adapters/` implements the ports in `workflows.ports` and `bot/` wires them together.
"""
