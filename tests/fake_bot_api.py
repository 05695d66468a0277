"""A fake Telegram Bot API server on 127.0.0.1 for tests, strict where Telegram is.

It serves ``{base}/bot{token}/{method}``, records every call, hands out updates the
test pushes through ``getUpdates``, and rejects with 400 what Telegram rejects:
texts over 4096 characters (after entity parsing), callback data over 64 bytes,
HTML it cannot parse (unknown or unbalanced tags, stray ``<`` or ``&``), and edits
that change nothing. It serves updates as Telegram's own server (tdlib's
``telegram-bot-api``, ``TQueue::get``) does: ``getUpdates(offset=N)`` forgets every pending
update below N and serves the rest from N on, oldest first; no offset, or an offset more
than 10 past the id the next update will get, serves from the oldest pending update and
forgets nothing. ``push(update, update_id=...)`` starts a new id sequence, as Telegram does
after a quiet week ("the next update id is chosen randomly") or another Bot API server would.

Faults for tests: ``fail_next`` (one call: a 400, or a 429 with ``retry_after``),
``fail_chat`` (every sendMessage to a chat, e.g. 500), ``outage`` (every call answered
with a 5xx), ``go_down``/``come_up`` (the listener closed: connections refused), and
``unconfirm`` (updates served again, as if the bot had been killed before confirming).
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote

from tests.fake_faults import Faults
from tests.telegram_rules import BadRequest, check_markup, check_text, units

@dataclass
class Call:
    method: str
    params: dict
    status: int = 200
    error: str | None = None
    result: object = None
    time: float = field(default_factory=time.monotonic)  # when the request arrived
    injected: bool = False  # a failure the test asked for


@dataclass
class Stored:
    chat_id: int
    message_id: int
    text: str
    html: str
    markup: dict | None


@dataclass
class FakeBotAPI(Faults):
    token: str = "123456789:TEST-fake-token-Abc_def"
    bot_id: int = 777000
    username: str = "qa_test_bot"
    calls: list[Call] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    delivered: int = 0  # highest update_id handed out by getUpdates
    served: set = field(default_factory=set)  # every update_id getUpdates ever handed out
    tail: int = 1  # the id the next pushed update gets (TQueue's tail_id)
    messages: dict = field(default_factory=dict)  # (chat_id, message_id) → Stored
    chat_types: dict = field(default_factory=dict)
    webhook: dict = field(default_factory=dict)
    failures: dict = field(default_factory=dict)  # method → (status, description, retry_after, chat) of next failures
    failing_chats: dict = field(default_factory=dict)  # chat id → status of every sendMessage to it
    outage_status: int | None = None  # every call answered with this 5xx status
    pushed: dict = field(default_factory=dict)  # update_id → every update ever pushed
    offsets: list = field(default_factory=list)  # the offset of every getUpdates call
    files: dict = field(default_factory=dict)  # file_id → (file_path, bytes) for getFile and /file/bot<token>/<path>

    def __post_init__(self):
        self.cond = threading.Condition()
        self.message_ids = itertools.count(1000)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                api.handle(self)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.handler = Handler
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.up = False

    # --- lifecycle --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> "FakeBotAPI":
        self.thread.start()
        self.up = True
        return self

    def stop(self) -> None:
        if self.up:
            self.up = False
            self.server.shutdown()
            self.server.server_close()

    # --- what tests use ---------------------------------------------------------------------
    def push(self, update: dict, update_id: int | None = None) -> int:
        """Queue an update; ``update_id`` given: a new sequence from there (ids may go down).

        Telegram picks a new first id only for an empty queue ("no new updates for at least a
        week"; it keeps an update 24 hours at most), so whatever was pending has expired."""
        with self.cond:
            if update_id is not None:
                self.tail, self.updates = update_id, []
            update = {"update_id": self.tail, **update}
            self.tail += 1
            self.updates.append(update)
            self.pushed[update["update_id"]] = update
            self.cond.notify_all()
        return update["update_id"]

    def wait(self, predicate, timeout: float = 15.0, what: str = "a call"):
        """The calls for which ``predicate(call)`` holds, once there is at least one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.cond:
                found = [c for c in self.calls if predicate(c)]
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what}; calls: {[c.method for c in self.calls][-20:]}")

    def until(self, condition, timeout: float = 15.0, what: str = "a condition") -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; last calls: {[c.method for c in self.calls][-20:]}")
            time.sleep(0.02)

    def wait_delivered(self, update_id: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while update_id not in self.served:
            assert time.monotonic() < deadline, f"update {update_id} was never fetched"
            time.sleep(0.02)

    def sent(self, chat_id: int, method: str = "sendMessage") -> list[Call]:
        with self.cond:
            return [c for c in self.calls if c.method == method and c.status == 200
                    and str(c.params.get("chat_id")) == str(chat_id)]

    def errors(self) -> list[Call]:
        """Calls Telegram would have rejected (failures the test injected are not counted)."""
        with self.cond:
            return [c for c in self.calls if c.status != 200 and not c.injected]

    # --- HTTP ---------------------------------------------------------------------------------
    def handle(self, request: BaseHTTPRequestHandler) -> None:
        if request.path.startswith("/file/bot"):
            return self.download(request)
        token, _, method = request.path.removeprefix("/bot").partition("/")
        params = self.read_params(request)
        if token != self.token:
            return self.reply(request, Call(method, params), 401, "Unauthorized")
        call = Call(method, params)
        failure = self.injected(method, params)
        if failure:
            (status, body), call.injected = failure, True
        else:
            try:
                result = self.dispatch(method, params)
                status, body = 200, {"ok": True, "result": result}
            except BadRequest as exc:
                status, body = 400, {"ok": False, "error_code": 400, "description": str(exc)}
            except LookupError:
                status, body = 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        call.status, call.error, call.result = status, body.get("description"), body.get("result")
        if method != "getUpdates" or body.get("result"):
            with self.cond:
                self.calls.append(call)
        self.send(request, status, body)

    def reply(self, request, call: Call, status: int, description: str) -> None:
        call.status, call.error = status, description
        with self.cond:
            self.calls.append(call)
        self.send(request, status, {"ok": False, "error_code": status, "description": description})

    @staticmethod
    def send(request, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        try:
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the bot went away mid-request (killed, or stopping a long poll)

    @staticmethod
    def read_params(request) -> dict:
        """Form-encoded or JSON parameters; values that are JSON (objects, numbers) decoded."""
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode() if length else ""
        if "json" in (request.headers.get("Content-Type") or ""):
            return json.loads(raw or "{}")
        params = {}
        for key, value in parse_qsl(raw, keep_blank_values=True):
            try:
                params[key] = json.loads(value) if key in JSON_KEYS else value
            except ValueError:
                params[key] = value
        return params

    def download(self, request) -> None:
        """A file's bytes at ``/file/bot<token>/<file_path>``, as Telegram serves what getFile named."""
        token, _, path = unquote(request.path).removeprefix("/file/bot").partition("/")  # PTB quotes the URL
        found = next((data for file_path, data in self.files.values() if file_path == path), None)
        body, status = (found, 200) if found is not None and token == self.token else (b"", 404)
        with self.cond:
            self.calls.append(Call("download", {"file_path": path}, status))
        request.send_response(status)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)

    def upload(self, name: str, data: bytes, mime_type: str = "application/octet-stream") -> dict:
        """A document as a user's message carries it; its bytes served to getFile and the download."""
        file_id = f"file{next(self.message_ids)}"
        self.files[file_id] = (f"documents/{file_id}_{name}", data)
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": name, "mime_type": mime_type,
                "file_size": len(data)}

    # --- methods ------------------------------------------------------------------------------
    def dispatch(self, method: str, p: dict):
        simple = {"deleteWebhook": True, "setMyCommands": True, "answerCallbackQuery": None, "close": True,
                  "logOut": True, "sendChatAction": True}
        if method == "getMe":
            return {"id": self.bot_id, "is_bot": True, "first_name": "QA Test", "username": self.username,
                    "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": True}
        if method == "getUpdates":
            return self.get_updates(p)
        if method == "getFile":
            if p.get("file_id") not in self.files:
                raise BadRequest("Bad Request: invalid file_id")
            path, data = self.files[p["file_id"]]
            return {"file_id": p["file_id"], "file_unique_id": f"u{p['file_id']}", "file_size": len(data), "file_path": path}
        if method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            return getattr(self, method)(p)
        if method == "answerInlineQuery":
            return self.answer_inline(p)
        if method == "answerCallbackQuery":
            if units(p.get("text") or "") > 200:
                raise BadRequest("Bad Request: MESSAGE_TOO_LONG")
            return True
        if method == "setWebhook":
            self.webhook = {"url": p.get("url"), "secret_token": p.get("secret_token")}
            return True
        if method == "getWebhookInfo":
            return {"url": self.webhook.get("url", ""), "has_custom_certificate": False, "pending_update_count": 0}
        if method in simple:
            return simple[method] if simple[method] is not None else True
        raise LookupError(method)

    def get_updates(self, p: dict) -> list[dict]:
        offset, timeout = int(p.get("offset") or 0), min(float(p.get("timeout") or 0), 1.0)
        deadline = time.monotonic() + timeout
        with self.cond:
            self.offsets.append(offset)
            while True:
                batch = self.pending_from(offset)[: int(p.get("limit") or 100)]
                if batch or time.monotonic() >= deadline:
                    break
                self.cond.wait(deadline - time.monotonic())
            if batch:
                self.delivered = max(self.delivered, batch[-1]["update_id"])
                self.served.update(u["update_id"] for u in batch)
            return batch

    def pending_from(self, offset: int) -> list[dict]:
        """What ``getUpdates(offset)`` serves, forgetting what it confirms (call with ``cond`` held).

        As tdlib's TQueue: an offset above ``tail + 10`` ("in the future") is ignored and the
        oldest pending update comes first; otherwise every update below the offset is forgotten.
        A negative offset counts from the end."""
        if offset < 0:
            offset += self.tail
        if 0 < offset <= self.tail + 10:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        return list(self.updates)

    def message_json(self, stored: Stored) -> dict:
        chat_type = self.chat_types.get(stored.chat_id, "private")
        out = {"message_id": stored.message_id, "date": int(time.time()), "text": stored.text,
               "chat": {"id": stored.chat_id, "type": chat_type, **({"title": "Test group"} if chat_type != "private" else {})},
               "from": {"id": self.bot_id, "is_bot": True, "first_name": "QA Test", "username": self.username}}
        if stored.markup:
            out["reply_markup"] = stored.markup
        return out

    def sendMessage(self, p: dict) -> dict:
        text, html = check_text(p)
        markup = check_markup(p.get("reply_markup"))
        chat_id = int(p["chat_id"])
        stored = Stored(chat_id, next(self.message_ids), text, html, markup)
        with self.cond:
            self.messages[(chat_id, stored.message_id)] = stored
        return self.message_json(stored)

    def stored(self, p: dict) -> Stored:
        stored = self.messages.get((int(p.get("chat_id", 0)), int(p.get("message_id", 0))))
        if stored is None:
            raise BadRequest("Bad Request: message to edit not found")
        return stored

    def editMessageText(self, p: dict) -> dict:
        stored = self.stored(p)
        text, html = check_text(p)
        markup = check_markup(p.get("reply_markup"))
        if html == stored.html and markup == stored.markup:
            raise BadRequest("Bad Request: message is not modified: specified new message content and reply "
                             "markup are exactly the same as a current content and reply markup of the message")
        stored.text, stored.html, stored.markup = text, html, markup
        return self.message_json(stored)

    def editMessageReplyMarkup(self, p: dict) -> dict:
        stored = self.stored(p)
        markup = check_markup(p.get("reply_markup"))
        if markup == stored.markup:
            raise BadRequest("Bad Request: message is not modified: specified new message content and reply "
                             "markup are exactly the same as a current content and reply markup of the message")
        stored.markup = markup
        return self.message_json(stored)

    def answer_inline(self, p: dict) -> bool:
        results = p.get("results") or []
        if len(results) > 50 or len({r["id"] for r in results}) != len(results):
            raise BadRequest("Bad Request: RESULTS_TOO_MUCH or duplicate result ids")
        for result in results:
            content = result.get("input_message_content") or {}
            check_text({"text": content.get("message_text", ""), "parse_mode": content.get("parse_mode")})
        return True


# parameters PTB sends JSON-encoded in a form field
JSON_KEYS = {"chat_id", "message_id", "offset", "limit", "timeout", "cache_time", "reply_to_message_id",
             "message_thread_id", "reply_markup", "results", "commands", "allowed_updates", "reply_parameters",
             "link_preview_options", "show_alert", "is_personal", "button", "drop_pending_updates"}


# --- updates the tests push ---------------------------------------------------------------------

LANGUAGES: dict[int, str] = {}  # user id → the language_code Telegram sends for that user (none if absent)


def user(user_id: int, name: str = "Tester") -> dict:
    code = LANGUAGES.get(user_id)
    return {"id": user_id, "is_bot": False, "first_name": name, **({"language_code": code} if code else {})}


def message(api: FakeBotAPI, chat_id: int, user_id: int, text: str | None, chat_type: str = "private",
            reply_to: dict | None = None, **media) -> dict:
    """A ``message`` update; commands get their bot_command entity, as Telegram adds it.

    ``media``: what a message without text carries instead, e.g. ``photo=PHOTO, caption="…"``."""
    api.chat_types[chat_id] = chat_type
    chat = {"id": chat_id, "type": chat_type, **({"title": "Test group"} if chat_type != "private" else {})}
    msg = {"message_id": next(api.message_ids), "date": int(time.time()), "chat": chat, "from": user(user_id),
           **({"text": text} if text is not None else {}), **media}
    if text and text.startswith("/"):
        msg["entities"] = [{"type": "bot_command", "offset": 0, "length": units(text.split()[0])}]
    if reply_to:
        msg["reply_to_message"] = reply_to
    return {"message": msg}


def document(api: FakeBotAPI, chat_id: int, user_id: int, name: str, data: bytes) -> dict:
    """A ``message`` update with a document (in a private chat), its file held by the fake."""
    update = message(api, chat_id, user_id, "")
    del update["message"]["text"]
    update["message"]["document"] = api.upload(name, data)
    return update


def callback(api: FakeBotAPI, user_id: int, stored_message: dict, data: str) -> dict:
    return {"callback_query": {"id": f"cb{next(api.message_ids)}", "from": user(user_id), "chat_instance": "ci",
                               "message": stored_message, "data": data}}


def inline(api: FakeBotAPI, user_id: int, query: str) -> dict:
    return {"inline_query": {"id": f"iq{next(api.message_ids)}", "from": user(user_id), "query": query, "offset": ""}}


# what messages without text carry, as Telegram sends it
FILE = {"file_id": "AgACAgIAAxkBAAI", "file_unique_id": "AQADAgAT"}
PHOTO = [{**FILE, "width": 90, "height": 67, "file_size": 1200}]
STICKER = {**FILE, "width": 512, "height": 512, "is_animated": False, "is_video": False, "type": "regular"}
VOICE = {**FILE, "duration": 3, "mime_type": "audio/ogg"}
DOCUMENT = {**FILE, "file_name": "notes.pdf", "mime_type": "application/pdf"}
