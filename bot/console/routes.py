"""The operator console's pages and actions (server-rendered, Jinja2 with autoescaping).

Access rules: no session → the login page (pages) or 401 (events); an operator sees the queue
(open cases) and the cases they claimed; a supervisor sees every case plus statistics, the audit
log and accounts. Replying, notes, release, hand-back and close need the case to be claimed by you
(supervisors may act on any case). Every page view, reply, note, export, claim, release, hand-back,
close, login and refusal is written to the audit log, without any message text.
"""
from __future__ import annotations

import asyncio
import json
import logging
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

import jinja2
from aiohttp import web

from bot.audit import AuditLog
from bot.config import Settings
from bot.console.auth import (
    CSRF_HEADER,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Accounts,
    AuthError,
    LoginLimiter,
    Session,
    Sessions,
    client_address,
    csrf_ok,
    new_password,
    same_origin,
)
from bot.handoffs import OUTCOMES, HandoffError, HandoffService, shared_summary
from bot.locales import Catalog

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
REFRESH_HEADER = "X-Console-Refresh"
HEARTBEAT_S = 15.0
CASE_ACTIONS = ("claim", "release", "handback", "close", "reply", "note")

CONSENT_NAMES = {"share": "share with services", "confidential": "confidential (helpline only)",
                 "anonymous": "anonymous"}
CONSENT_HELP = {
    "share": "The person agreed that their details may be passed to services that can help them.",
    "confidential": "Keep it within the helpline: do not pass anything on to other services.",
    "anonymous": "The person stays anonymous: pass nothing on, and do not ask who they are.",
}
OUTCOME_NAMES = {"referred": "Referred to a service", "advice_given": "Advice given",
                 "emergency_services": "Emergency services involved", "no_further_contact": "No further contact",
                 "not_trafficking": "Not trafficking", "duplicate_or_test": "Duplicate or test", "other": "Other"}
REASONS = {"no_package": "no translation package for this pair", "unavailable": "translation service unavailable",
           "too_long": "too long to translate", "failed": "translation failed"}
NOTICES = {"closed": "Case closed. Its conversation and the reply address were deleted; only anonymous "
                     "statistics are kept.",
           "closed_retained": "Case closed. Its conversation will be deleted when the retention period ends.",
           "password": "Your password is saved.",
           "replied": "Reply sent.", "claimed": "You claimed this case.", "released": "Case released to the queue.",
           "handedback": "The conversation is back with the bot.", "noted": "Note added."}
STAT_GROUPS = (("outcome", "outcome"), ("urgency", "urgency"), ("form", "form of exploitation"),
               ("language", "language"), ("channel", "channel"), ("consent", "consent"))


def _now() -> datetime:
    """Now, UTC."""
    return datetime.now(timezone.utc)


def waiting(record: dict[str, Any], now: datetime) -> str:
    """How long a case has waited, in words short enough for a table."""
    try:
        created = datetime.fromisoformat(str(record.get("created_at")))
    except ValueError:
        return "?"
    minutes = int((now - created).total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def may_view(session: Session, record: dict[str, Any]) -> bool:
    """Operators see queued cases and their own; supervisors see all."""
    return session.supervisor or record.get("status") == "open" or record.get("claimed_by") == session.username


def may_act(session: Session, record: dict[str, Any]) -> bool:
    """Replies, notes and state changes: the operator who claimed it, or a supervisor."""
    return session.supervisor or record.get("claimed_by") == session.username


def _safe_next(value: Optional[str]) -> str:
    """A redirect target inside the console only."""
    if value and value.startswith("/console") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console"


class Console:
    """Builds the console's routes around the handoff service, accounts, sessions and the audit log."""

    def __init__(self, settings: Settings, handoffs: HandoffService, accounts: Accounts, audit: AuditLog,
                 catalog: Catalog):
        self.settings = settings
        self.handoffs = handoffs
        self.accounts = accounts
        self.sessions = Sessions(handoffs.store, accounts, settings)
        self.limiter = LoginLimiter(handoffs.store)
        self.audit = audit
        self.catalog = catalog
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                                      trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(helpline_name=settings.helpline_name, consent_names=CONSENT_NAMES,
                                consent_help=CONSENT_HELP, reasons=REASONS, waiting=waiting)

    def routes(self) -> list[web.AbstractRouteDef]:
        """Every console route, under /console."""
        return [
            web.get("/console", self.queue),
            web.get("/console/", self.queue),
            web.get("/console/login", self.login_page),
            web.post("/console/login", self.login),
            web.post("/console/logout", self.logout),
            web.get("/console/password", self.password_page),
            web.post("/console/password", self.change_password),
            web.get("/console/events", self.events),
            web.get("/console/cases/{id}", self.case_page),
            web.get("/console/cases/{id}/export", self.export),
            web.post("/console/cases/{id}/{action}", self.case_action),
            web.get("/console/stats", self.stats),
            web.get("/console/audit", self.audit_page),
            web.get("/console/accounts", self.accounts_page),
            web.post("/console/accounts", self.create_account),
            web.post("/console/accounts/{username}/{action}", self.account_action),
            web.static("/console/static", STATIC),
        ]

    async def on_shutdown(self, _: web.Application) -> None:
        """End open event streams so the server can stop at once."""
        self.handoffs.events.publish("bye")

    # Rendering and gates.

    def render(self, template: str, status: int = 200, **context: Any) -> web.Response:
        """A page from a template."""
        html = self.env.get_template(template).render(**context)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")

    def message(self, status: int, heading: str, text: str, session: Optional[Session] = None,
                back: str = "/console") -> web.Response:
        """A short page explaining a refusal or a problem."""
        return self.render("message.html", status=status, heading=heading, text=text, session=session, back=back)

    async def _session(self, request: web.Request, supervisor: bool = False) -> Session:
        """The logged-in user, or the right refusal (login page, 401, 403) raised as an HTTP exception."""
        session = await self.sessions.load(request)
        if session is None:
            if request.method == "GET" and request.path != "/console/events":
                raise web.HTTPSeeOther(f"/console/login?next={quote(request.path_qs, safe='/')}")
            raise web.HTTPUnauthorized(text=json.dumps({"error": "log in first"}), content_type="application/json")
        if session.must_change_password and request.path not in ("/console/password", "/console/logout"):
            if request.method == "GET":
                raise web.HTTPSeeOther("/console/password")
            raise self._refusal(403, "Choose your own password first.", session)
        if supervisor and not session.supervisor:
            await self.audit.record(session.username, session.role, "denied", reason=request.path)
            raise self._refusal(403, "This page is for supervisors.", session)
        return session

    def _refusal(self, status: int, text: str, session: Optional[Session] = None) -> web.HTTPException:
        """An HTTP error carrying a console page."""
        page = self.message(status, "Not allowed" if status == 403 else "Problem", text, session)
        error = {401: web.HTTPUnauthorized, 403: web.HTTPForbidden, 404: web.HTTPNotFound,
                 409: web.HTTPConflict, 429: web.HTTPTooManyRequests}[status]
        return error(text=page.text, content_type="text/html")

    async def _form(self, request: web.Request, session: Session) -> Any:
        """The posted form, after the origin and CSRF checks (403 when they fail)."""
        form = await request.post()
        if not same_origin(request) or not csrf_ok(session.csrf, form.get("csrf") or request.headers.get(CSRF_HEADER)):
            await self.audit.record(session.username, session.role, "denied", reason="csrf")
            raise self._refusal(403, "The form was too old or came from elsewhere. Reload the page and try again.",
                                session)
        return form

    @staticmethod
    def _refreshing(request: web.Request) -> bool:
        """A live refresh of a page already open (audited once, when it was opened)."""
        return request.headers.get(REFRESH_HEADER) == "1"

    # Login, logout, password.

    async def login_page(self, request: web.Request, error: Optional[str] = None, status: int = 200) -> web.Response:
        """The login form, with a fresh login CSRF token in a cookie and the form."""
        if error is None and await self.sessions.load(request):
            raise web.HTTPSeeOther("/console")
        token = secrets.token_urlsafe(24)
        response = self.render("login.html", status=status, login_csrf=token, error=error, session=None,
                               next_url=_safe_next(request.query.get("next") or request.get("next_url")))
        self.sessions.set_cookie(response, request, LOGIN_COOKIE, token, max_age=3600)
        return response

    async def login(self, request: web.Request) -> web.StreamResponse:
        """Password + TOTP code; a limited number of failures per account and per address."""
        form = await request.post()
        request["next_url"] = str(form.get("next") or "")
        if not same_origin(request) or not csrf_ok(request.cookies.get(LOGIN_COOKIE, ""), form.get("csrf")):
            return await self.login_page(request, "The login form expired. Please try again.", 403)
        username = str(form.get("username") or "").strip().lower()[:64]
        address = client_address(request)
        account = await self.accounts.get(username) if username else None
        actor = username if account else "unknown"
        if await self.limiter.blocked(username, address):
            await self.audit.record(actor, "-", "login_blocked")
            return await self.login_page(request, "Too many failed attempts. Wait 15 minutes and try again.", 429)
        good = self.accounts.check_password(account, str(form.get("password") or ""))
        good = good and account is not None and not account.get("disabled")
        good = good and await self.accounts.check_code(account, str(form.get("totp") or ""))
        if not good:
            await self.limiter.failed(username, address)
            await self.audit.record(actor, "-", "login_failed")
            return await self.login_page(request, "Wrong username, password or code.", 401)
        assert account is not None
        value = await self.sessions.start(account)
        await self.audit.record(account["username"], account["role"], "login")
        target = "/console/password" if account.get("must_change_password") else _safe_next(request["next_url"])
        response = web.HTTPSeeOther(target)
        self.sessions.set_cookie(response, request, SESSION_COOKIE, value)
        self.sessions.clear_cookie(response, LOGIN_COOKIE)
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        """End the session."""
        session = await self.sessions.load(request)
        if session is not None:
            await self._form(request, session)
            await self.sessions.end(session)
            await self.audit.record(session.username, session.role, "logout")
        response = web.HTTPSeeOther("/console/login")
        self.sessions.clear_cookie(response, SESSION_COOKIE)
        raise response

    async def password_page(self, request: web.Request) -> web.Response:
        """Choose a password (required after a one-time password)."""
        session = await self._session(request)
        return self.render("password.html", session=session)

    async def change_password(self, request: web.Request) -> web.Response:
        """Check the current password, then save the new one."""
        session = await self._session(request)
        form = await self._form(request, session)
        account = await self.accounts.get(session.username)
        new, again = str(form.get("new") or ""), str(form.get("again") or "")
        error = None
        if not self.accounts.check_password(account, str(form.get("current") or "")):
            error = "The current password is wrong."
        elif new != again:
            error = "The two new passwords differ."
        else:
            try:
                await self.accounts.set_password(session.username, new)
            except AuthError as exc:
                error = str(exc)
        if error:
            return self.render("password.html", status=400, session=session, error=error)
        await self.audit.record(session.username, session.role, "password_change")
        raise web.HTTPSeeOther("/console?notice=password")

    # The queue and live updates.

    async def queue(self, request: web.Request) -> web.Response:
        """Open cases by urgency then waiting time; your cases; for supervisors, everyone's."""
        session = await self._session(request)
        records = await self.handoffs.all()
        waiting_cases = [r for r in records if r.get("status") == "open"]
        mine = [r for r in records if r.get("status") != "open" and r.get("claimed_by") == session.username]
        others, closed = [], []
        if session.supervisor:
            others = [r for r in records if r.get("status") == "claimed" and r.get("claimed_by") != session.username]
            closed = [r for r in records if r.get("status") == "closed" and r.get("claimed_by") != session.username]
        if not self._refreshing(request):
            await self.audit.record(session.username, session.role, "view_queue", count=len(waiting_cases))
        return self.render("queue.html", session=session, page="queue", now=_now(), waiting_cases=waiting_cases,
                           mine=mine, others=others, closed=closed,
                           notice=NOTICES.get(request.query.get("notice", "")))

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: which case or the queue changed (ids only; pages fetch the rest)."""
        session = await self._session(request)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store",
                                               "X-Accel-Buffering": "no"})
        await response.prepare(request)
        queue = self.handoffs.events.subscribe()
        try:
            await response.write(b"retry: 3000\n\n")
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), HEARTBEAT_S)
                except asyncio.TimeoutError:
                    if await self.sessions.load(request) is None:  # logged out meanwhile
                        break
                    await response.write(b": ping\n\n")
                    continue
                if event.get("kind") == "bye":
                    break
                await response.write(f"event: update\ndata: {json.dumps(event)}\n\n".encode())
        except (ConnectionResetError, RuntimeError):
            pass
        finally:
            self.handoffs.events.unsubscribe(queue)
        log.debug("event stream of %s ended", session.username)
        return response

    # A case.

    async def _case(self, request: web.Request, session: Session) -> dict[str, Any]:
        """The requested case if this user may see it (404 / 403 otherwise, audited)."""
        case_id = request.match_info["id"]
        record = await self.handoffs.get(case_id) if len(case_id) <= 64 else None
        if record is None:
            raise self._refusal(404, "This case does not exist any more: closed cases are deleted, and a person "
                                     "can erase their conversation at any time.", session)
        if not may_view(session, record):
            await self.audit.record(session.username, session.role, "denied", case=record["id"], reason="view")
            raise self._refusal(403, "This case is claimed by another operator.", session)
        return record

    def _text(self, name: str, fallback: str) -> str:
        """A label in the operator's language from the locale texts, or the raw id."""
        message = self.catalog.render(name, self.settings.operator_language)
        return message["text"] if message else fallback

    async def case_page(self, request: web.Request) -> web.Response:
        """Summary, safe-contact instructions, transcript with translations, actions, notes."""
        session = await self._session(request)
        record = await self._case(request, session)
        if not self._refreshing(request):
            await self.audit.record(session.username, session.role, "view", case=record["id"])
        operator_language = self.settings.operator_language
        person_language = record.get("detected_language") or record.get("language") or "en"
        status = await self.handoffs.translation_status(operator_language, person_language)
        pair = f"{operator_language}→{person_language}"
        translation_text = {
            "same": "You and the person write the same language: replies are sent as written.",
            "ok": f"Your reply is machine-translated for the person ({pair}); you see both here.",
            "no_package": f"No translation package for {pair}: your reply is sent exactly as you write it.",
            "unavailable": "The translation service is not answering: replies are sent as written for now.",
        }[status]
        indicators = [{**i, "label": self._text(f"utter_screening_label_{i.get('id')}", str(i.get("id"))),
                       "strength": i.get("strength")} for i in record.get("indicators") or []]
        labels = {
            "urgency": self._text(f"utter_screening_urgency_{record.get('urgency')}", str(record.get("urgency"))),
            "reporter": self._text(f"utter_screening_reporter_{record['reporter']}", record["reporter"])
            if record.get("reporter") else "not asked",
            "forms": ", ".join(self._text(f"utter_screening_form_{f}", f) for f in record.get("forms") or []),
            "needs": ", ".join(self._text(f"utter_screening_need_{n}", n) for n in record.get("needs") or []),
        }
        locale = self.catalog.locales.get(str(record.get("language")))
        retention = self.settings.closed_retention_s
        retention_text = ("Closing deletes the conversation and the reply address at once; anonymous counts are kept."
                          if retention <= 0 else
                          f"Closing keeps the conversation {retention // 3600} h {retention % 3600 // 60} min, "
                          "then deletes it; anonymous counts are kept.")
        return self.render(
            "case.html", session=session, page="case", case_id=record["id"], record=record, labels=labels, now=_now(),
            indicators=indicators, language_name=locale.name if locale else record.get("language"),
            operator_language=operator_language, person_language=person_language, translation_status=status,
            translation_text=translation_text, may_act=may_act(session, record),
            outcomes=[(o, OUTCOME_NAMES[o]) for o in OUTCOMES], retention_text=retention_text,
            max_chars=self.settings.max_message_chars, notice=NOTICES.get(request.query.get("notice", "")),
        )

    async def case_action(self, request: web.Request) -> web.Response:
        """Claim, release, hand back, close, reply or add a note; then back to the case (or the queue)."""
        session = await self._session(request)
        action = request.match_info["action"]
        if action not in CASE_ACTIONS:
            raise self._refusal(404, "No such action.", session)
        form = await self._form(request, session)
        record = await self._case(request, session)
        if action != "claim" and not may_act(session, record):
            await self.audit.record(session.username, session.role, "denied", case=record["id"], reason=action)
            raise self._refusal(403, "Claim the case first: only the operator who claimed it (or a supervisor) "
                                     "can do that.", session)
        case_id, who = record["id"], session.username
        details: dict[str, Any] = {}
        try:
            if action == "claim":
                await self.handoffs.claim(case_id, who)
            elif action == "release":
                await self.handoffs.release(case_id, who)
            elif action == "handback":
                await self.handoffs.hand_back(case_id, who)
            elif action == "note":
                await self.handoffs.add_note(case_id, who, str(form.get("text") or ""))
            elif action == "reply":
                line = await self.handoffs.reply(case_id, who, str(form.get("text") or ""))
                details = {"result": "delivered" if line.get("delivered") else "not_delivered",
                           "level": "machine_translated" if line.get("machine_translated") else "as_written"}
            elif action == "close":
                outcome = str(form.get("outcome") or "")
                await self.handoffs.close(case_id, who, outcome)
                details = {"outcome": outcome}
        except HandoffError as exc:
            raise self._refusal(409, str(exc), session) from None
        await self.audit.record(who, session.role, action, case=case_id, **details)
        if action == "close":
            raise web.HTTPSeeOther("/console?notice=" + ("closed" if self.settings.closed_retention_s <= 0
                                                          else "closed_retained"))
        notice = {"claim": "claimed", "release": "released", "handback": "handedback", "note": "noted",
                  "reply": "replied"}[action]
        raise web.HTTPSeeOther(f"/console/cases/{case_id}?notice={notice}")

    async def export(self, request: web.Request) -> web.Response:
        """The case summary as JSON (CONTRACTS §6, within the person's consent)."""
        session = await self._session(request)
        record = await self._case(request, session)
        await self.audit.record(session.username, session.role, "export", case=record["id"])
        body = json.dumps(shared_summary(record), ensure_ascii=False, indent=2)
        return web.Response(text=body, content_type="application/json", headers={
            "Content-Disposition": f'attachment; filename="safeline-case-{record["id"][:8]}.json"'})

    # Supervisors.

    async def stats(self, request: web.Request) -> web.Response:
        """Anonymous outcome counts as bar charts."""
        session = await self._session(request, supervisor=True)
        counters = await self.handoffs.store.stats_get()
        await self.audit.record(session.username, session.role, "view_stats")
        groups = []
        for key, title in STAT_GROUPS:
            rows = sorted(((name.split(":", 1)[1], count) for name, count in counters.items()
                           if name.startswith(key + ":")), key=lambda row: (-row[1], row[0]))
            top = max((count for _, count in rows), default=1)
            groups.append({"key": key, "title": title, "rows": [
                {"name": name, "count": count, "width": max(2, round(200 * count / top))} for name, count in rows]})
        return self.render("stats.html", session=session, page="stats", total=counters.get("cases", 0), groups=groups)

    async def audit_page(self, request: web.Request) -> web.Response:
        """The newest audit entries."""
        session = await self._session(request, supervisor=True)
        await self.audit.record(session.username, session.role, "view_audit")
        return self.render("audit.html", session=session, page="audit", entries=await self.audit.entries(500))

    async def accounts_page(self, request: web.Request, created: Optional[dict] = None,
                            error: Optional[str] = None, status: int = 200) -> web.Response:
        """Accounts, and the form for a new one."""
        session = await self._session(request, supervisor=True)
        if created is None and error is None:
            await self.audit.record(session.username, session.role, "view_accounts")
        return self.render("accounts.html", status=status, session=session, page="accounts",
                           accounts=await self.accounts.all(), created=created, error=error)

    async def create_account(self, request: web.Request) -> web.Response:
        """A new operator or supervisor with a one-time password and a TOTP key, shown once."""
        session = await self._session(request, supervisor=True)
        form = await self._form(request, session)
        username = str(form.get("username") or "").strip().lower()
        role = str(form.get("role") or "operator")
        password = new_password()
        try:
            secret = await self.accounts.create(username, password, role, must_change_password=True,
                                                created_by=session.username)
        except AuthError as exc:
            return await self.accounts_page(request, error=str(exc), status=400)
        await self.audit.record(session.username, session.role, "account_create", target=username, target_role=role)
        created = {"username": username, "password": password, "totp_secret": secret,
                   "totp_uri": self.accounts.provisioning_uri(username, secret)}
        return await self.accounts_page(request, created=created)

    async def account_action(self, request: web.Request) -> web.Response:
        """Disable, enable or reset (new one-time password and authenticator key) another account."""
        session = await self._session(request, supervisor=True)
        await self._form(request, session)
        username, action = request.match_info["username"], request.match_info["action"]
        if action not in ("disable", "enable", "reset"):
            raise web.HTTPNotFound()
        try:
            if action == "reset":
                password, secret = await self.accounts.reset(username, by=session.username)
            else:
                await self.accounts.set_disabled(username, action == "disable", by=session.username)
        except AuthError as exc:
            return await self.accounts_page(request, error=str(exc), status=400)
        await self.audit.record(session.username, session.role, f"account_{action}", target=username)
        if action != "reset":
            raise web.HTTPSeeOther("/console/accounts")
        created = {"username": username, "password": password, "totp_secret": secret, "reset": True,
                   "totp_uri": self.accounts.provisioning_uri(username, secret)}
        return await self.accounts_page(request, created=created)
