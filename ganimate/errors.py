"""The one exception type of the library.

Every failure a user can cause or fix (a missing file, a bad option value, a face that cannot be
found) is raised as :class:`GanimateError` with a message that names the file and the fix. The CLI
turns it into ``error: <message>`` on stderr and exit code 1; anything else is a bug.
"""


class GanimateError(Exception):
    """A user-facing error: the message is shown as is, so make it say what and how to fix."""
