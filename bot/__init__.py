"""accessbot: the driving side (composition root, CLI, web server, chat front ends)."""
