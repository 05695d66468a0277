"""qabot's tests: a package, so shared helpers are imported as ``tests.helpers`` and the fake
Bot API as ``tests.fake_bot_api``, with no sys.path edits."""
