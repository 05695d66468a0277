"""The faults ``FakeBotAPI`` can inject: failed calls, 5xx outages, a closed listener, re-served updates."""
from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


class Faults:
    """Mixed into ``FakeBotAPI``; uses its lock (``cond``), queues and server."""

    def go_down(self) -> None:
        """Close the listener: connections to the API are refused until ``come_up``."""
        self.stop()

    def come_up(self) -> None:
        """Listen again on the same port."""
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), self.handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.start()

    def fail_next(self, method: str, description: str = "Bad Request: chat not found", status: int = 400,
                  retry_after: int | None = None, chat_id: int | None = None) -> None:
        """Make the next call of ``method`` (to ``chat_id``, if given) fail, as Telegram sometimes does."""
        with self.cond:
            self.failures.setdefault(method, []).append((status, description, retry_after, chat_id))

    def fail_chat(self, chat_id: int, status: int | None = 500) -> None:
        """Answer every sendMessage to ``chat_id`` with ``status`` (None: stop failing)."""
        with self.cond:
            self.failing_chats.pop(chat_id, None)
            if status:
                self.failing_chats[chat_id] = status

    def outage(self, status: int | None = 500) -> None:
        """Answer every call with ``status`` (None: recover)."""
        with self.cond:
            self.outage_status = status

    def unconfirm(self, update_ids) -> None:
        """Serve these updates again, as Telegram does when the bot never confirmed them."""
        with self.cond:
            known = {u["update_id"] for u in self.updates}
            self.updates += [self.pushed[i] for i in update_ids if i not in known]
            self.updates.sort(key=lambda u: u["update_id"])
            self.cond.notify_all()

    def injected(self, method: str, p: dict) -> tuple[int, dict] | None:
        """The failure the test asked for, if this call is to fail: (status, body)."""
        with self.cond:
            status = self.outage_status
            chat = str(p.get("chat_id"))
            if not status and method == "sendMessage":
                status = next((s for c, s in self.failing_chats.items() if str(c) == chat), None)
            queue = self.failures.get(method) or []
            if not status and queue:
                entry = next((e for e in queue if e[3] is None or str(e[3]) == chat), None)
                if entry:
                    queue.remove(entry)
                    status, description, retry_after, _ = entry
                    body = {"ok": False, "error_code": status, "description": description}
                    return status, {**body, "parameters": {"retry_after": retry_after}} if retry_after else body
        if not status:
            return None
        description = {502: "Bad Gateway", 503: "Service Unavailable"}.get(status, "Internal Server Error")
        return status, {"ok": False, "error_code": status, "description": description}
