"""The daily access summary: the posting loop inside `serve` (routes.py), the job that builds and
posts one summary (job.py), and the terminal rendering behind `accessbot summary` (terminal.py)."""
