"""The submission service: providers and municipalities deliver files over HTTPS with a personal token.

The service only receives: it checks the token, the size and that the file's sender is the token's
holder, then drops the file into the inbox (``*.part`` first, then renamed) where the inbox watcher
takes over. A dry run validates the file against a throw-away home and stores nothing.
"""
