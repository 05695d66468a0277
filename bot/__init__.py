"""qabot's frontends (CLI, REPL, Telegram) over one shared answering path."""
