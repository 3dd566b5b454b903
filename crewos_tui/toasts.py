"""The app's toasts, kept few: a toast said again while it still shows becomes that one
toast with a count (``Nothing changed. ×3``), and at most ``MAX_SHOWN`` toasts are on
screen at once, the oldest leaving first.

Textual keeps an app's notifications in one ``Notifications`` collection, which the
current screen's ``ToastRack`` shows (a toast whose notification left the collection is
taken down). ``ToastStack`` is that collection for ``CrewOSApp``, so every toast passes
through it: ours (``CrewOSApp.notify``) and Textual's own alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from textual.notifications import Notification, Notifications

#: Toasts on screen at once: five stacked toasts covered most of an 80x24 artifact view.
MAX_SHOWN = 3


@dataclass
class RepeatedNotification(Notification):
    """A notification said ``times`` times while it showed; ``said`` is its message
    without the count."""

    said: str = ""
    times: int = 1


def _what(notification: Notification) -> tuple[str, str, str, bool]:
    said = notification.said if isinstance(notification, RepeatedNotification) else notification.message
    return notification.title, said, notification.severity, notification.markup


class ToastStack(Notifications):
    """Notifications that coalesce repeats and keep only the newest ``limit``."""

    def __init__(self, limit: int = MAX_SHOWN) -> None:
        super().__init__()
        self.limit = limit

    def add(self, notification: Notification) -> Self:
        self._reap()
        shown = self._notifications
        what = _what(notification)
        earlier = next((n for n in shown.values() if _what(n) == what), None)
        if earlier is not None:
            # The repeat replaces the toast on screen: newest again, with a fresh timeout.
            del shown[earlier.identity]
            times = earlier.times + 1 if isinstance(earlier, RepeatedNotification) else 2
            notification = RepeatedNotification(
                f"{notification.message} ×{times}",
                notification.title,
                notification.severity,
                notification.timeout,
                notification.markup,
                said=notification.message,
                times=times,
            )
        shown[notification.identity] = notification
        while len(shown) > self.limit:
            del shown[next(iter(shown))]  # oldest first: a dict keeps the order they came in
        return self
