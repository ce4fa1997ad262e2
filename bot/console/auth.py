"""Console accounts and access: argon2 passwords, TOTP for everyone, sessions, CSRF, login limits.

Accounts are operators or supervisors. Every login needs the password and a current TOTP code (a
code works once). Sessions live in the store under a hash of the cookie value; the cookie is
HttpOnly and SameSite=Strict (and Secure in production or over HTTPS). Every state-changing request
carries the session's CSRF token and, when the browser sends one, an Origin of this site. Failed
logins are counted per account and per client address; past the limit the login answers 429.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Optional
from urllib.parse import urlparse

import pyotp
from aiohttp import web
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.config import Settings
from bot.stores.base import Store

ROLES = ("operator", "supervisor")
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
MIN_PASSWORD_CHARS = 12
SESSION_COOKIE = "safeline_console"
LOGIN_COOKIE = "safeline_console_login"
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
FAILURE_WINDOW_S = 15 * 60
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
TOTP_ISSUER = "Safeline"
_TOTP_INFO = b"safeline console totp v1"


def _now() -> str:
    """Current time, ISO 8601 UTC."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _digest(value: str) -> str:
    """A short one-way name for a value kept as a store key (cookie values, addresses, usernames)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:40]


def password_problem(password: str) -> Optional[str]:
    """Why a new password is not acceptable, or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"Use at least {MIN_PASSWORD_CHARS} characters."
    if len(set(password)) < 5:
        return "Use a less repetitive password."
    return None


def new_password() -> str:
    """A one-time password to hand over (the person chooses their own at first login)."""
    return secrets.token_urlsafe(15)


class AuthError(Exception):
    """A login or account change was refused; the message is safe to show."""


@dataclass(frozen=True)
class Session:
    """A logged-in operator or supervisor, as the console sees them on each request."""

    key: str
    username: str
    role: str
    csrf: str
    must_change_password: bool = False

    @property
    def supervisor(self) -> bool:
        """Supervisors see every case, the statistics, the audit log and the accounts."""
        return self.role == "supervisor"


class Accounts:
    """Operator and supervisor accounts in the store's permanent account table."""

    def __init__(self, store: Store, secret_key: str):
        self.store = store
        self.hasher = PasswordHasher()
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_TOTP_INFO).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        self._dummy_hash = self.hasher.hash(secrets.token_urlsafe(16))

    async def get(self, username: str) -> Optional[dict[str, Any]]:
        """An account by username, or None."""
        return await self.store.account_get(username)

    async def all(self) -> list[dict[str, Any]]:
        """Every account, without secrets."""
        return [{k: v for k, v in a.items() if k not in ("password_hash", "totp_sealed")}
                for a in await self.store.account_list()]

    async def create(self, username: str, password: str, role: str, *, totp_secret: Optional[str] = None,
                     must_change_password: bool = True, created_by: str = "system",
                     check_policy: bool = True) -> str:
        """Create an account; returns its TOTP secret (shown once, kept only sealed)."""
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise AuthError("A username has 3-32 lowercase letters, digits, '.', '_' or '-'.")
        if role not in ROLES:
            raise AuthError("The role must be operator or supervisor.")
        problem = password_problem(password) if check_policy else (None if password else "empty password")
        if problem:
            raise AuthError(problem)
        if await self.store.account_get(username):
            raise AuthError("That username is taken.")
        secret = totp_secret or pyotp.random_base32()
        pyotp.TOTP(secret).now()  # refuse a malformed secret now rather than at login
        await self.store.account_put(username, {
            "username": username, "role": role, "password_hash": self.hasher.hash(password),
            "totp_sealed": self._fernet.encrypt(secret.encode()).decode(), "must_change_password": must_change_password,
            "created_at": _now(), "created_by": created_by, "disabled": False,
        })
        return secret

    def totp(self, account: dict[str, Any]) -> Optional[pyotp.TOTP]:
        """The account's TOTP generator, or None if its secret cannot be opened."""
        try:
            return pyotp.TOTP(self._fernet.decrypt(str(account.get("totp_sealed", "")).encode()).decode())
        except (InvalidToken, ValueError):
            return None

    def provisioning_uri(self, username: str, secret: str) -> str:
        """The otpauth:// URI an authenticator app reads."""
        return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)

    def check_password(self, account: Optional[dict[str, Any]], password: str) -> bool:
        """Verify a password in constant-ish time (a dummy hash when the account does not exist)."""
        try:
            return self.hasher.verify(account["password_hash"] if account else self._dummy_hash, password) \
                and account is not None
        except (VerificationError, InvalidHashError):
            return False

    async def check_code(self, account: dict[str, Any], code: str) -> bool:
        """A current TOTP code (±30 s), accepted once only."""
        totp = self.totp(account)
        code = re.sub(r"\s", "", code or "")
        if totp is None or not re.fullmatch(r"\d{6}", code) or not totp.verify(code, valid_window=1):
            return False
        return await self.store.claim_once(f"totp:{_digest(account['username'])}:{code}", 120)

    async def set_password(self, username: str, password: str) -> None:
        """Replace the password (ends the one-time password)."""
        problem = password_problem(password)
        if problem:
            raise AuthError(problem)
        account = await self.store.account_get(username)
        if account is None:
            raise AuthError("No such account.")
        account.update(password_hash=self.hasher.hash(password), must_change_password=False,
                       password_changed_at=_now())
        await self.store.account_put(username, account)

    async def _existing(self, username: str) -> dict[str, Any]:
        """An account that must exist for the change asked."""
        account = await self.store.account_get(username)
        if account is None:
            raise AuthError("No such account.")
        return account

    async def set_disabled(self, username: str, disabled: bool, *, by: str) -> dict[str, Any]:
        """Disable (sessions end at their next request) or re-enable an account.

        Nobody disables themselves, and the last enabled supervisor stays: else nobody could manage accounts.
        """
        account = await self._existing(username)
        if disabled and username == by:
            raise AuthError("You cannot disable your own account.")
        if disabled and account.get("role") == "supervisor":
            others = [a for a in await self.store.account_list()
                      if a.get("role") == "supervisor" and not a.get("disabled") and a.get("username") != username]
            if not others:
                raise AuthError("This is the last enabled supervisor: create or enable another one first.")
        account.update(disabled=disabled, disabled_at=_now() if disabled else None, disabled_by=by if disabled else None)
        await self.store.account_put(username, account)
        return account

    async def reset(self, username: str, *, by: str) -> tuple[str, str]:
        """A new one-time password and authenticator key (a lost phone, a forgotten password).

        Returns (password, totp secret), shown once; every session of the account ends.
        """
        account = await self._existing(username)
        if username == by:
            raise AuthError("Change your own password on the password page; another supervisor resets yours.")
        password, secret = new_password(), pyotp.random_base32()
        account.update(password_hash=self.hasher.hash(password), must_change_password=True,
                       totp_sealed=self._fernet.encrypt(secret.encode()).decode(),
                       sessions_after=time.time(), reset_at=_now(), reset_by=by)
        await self.store.account_put(username, account)
        return password, secret


class LoginLimiter:
    """Counts failed logins per account and per client address in fixed windows."""

    def __init__(self, store: Store):
        self.store = store

    def _keys(self, username: str, address: str) -> tuple[str, str]:
        return f"login:user:{_digest(username.lower())}", f"login:addr:{_digest(address)}"

    async def blocked(self, username: str, address: str) -> bool:
        """Too many failures recently for this account or from this address?"""
        user_key, addr_key = self._keys(username, address)
        return (await self.store.hits(user_key) >= MAX_FAILURES_PER_ACCOUNT
                or await self.store.hits(addr_key) >= MAX_FAILURES_PER_ADDRESS)

    async def failed(self, username: str, address: str) -> None:
        """Count a failure."""
        for key in self._keys(username, address):
            await self.store.hit(key, FAILURE_WINDOW_S)


class Sessions:
    """Console sessions: random cookie values, stored by their hash, expiring when idle."""

    def __init__(self, store: Store, accounts: Accounts, settings: Settings):
        self.store = store
        self.accounts = accounts
        self.settings = settings

    async def start(self, account: dict[str, Any]) -> str:
        """A new session for the account; returns the cookie value."""
        value = secrets.token_urlsafe(32)
        await self.store.session_put(_digest(value), {
            "username": account["username"], "csrf": secrets.token_urlsafe(32), "created_at": _now(),
            "at": time.time(), "started": time.time(),
        }, self.settings.console_session_ttl_s)
        return value

    async def load(self, request: web.Request) -> Optional[Session]:
        """The request's live session (the account's current role), renewing its idle expiry."""
        value = request.cookies.get(SESSION_COOKIE)
        if not value or len(value) > 100:
            return None
        key = _digest(value)
        data = await self.store.session_get(key)
        if data is None:
            return None
        account = await self.accounts.get(str(data.get("username")))
        ended = float(data.get("started", 0)) < float(account.get("sessions_after", 0)) if account else True
        if account is None or ended or account.get("disabled") or account.get("role") not in ROLES:
            await self.store.session_delete(key)
            return None
        if time.time() - float(data.get("at", 0)) > 60:  # renew at most once a minute
            data["at"] = time.time()
            await self.store.session_put(key, data, self.settings.console_session_ttl_s)
        return Session(key, account["username"], account["role"], str(data["csrf"]),
                       bool(account.get("must_change_password")))

    async def end(self, session: Session) -> None:
        """Log out."""
        await self.store.session_delete(session.key)

    def secure(self, request: web.Request) -> bool:
        """Cookies are Secure in production and whenever the request came over HTTPS."""
        return self.settings.production or request.secure or request.headers.get("X-Forwarded-Proto") == "https"

    def set_cookie(self, response: web.StreamResponse, request: web.Request, name: str, value: str,
                   max_age: Optional[int] = None) -> None:
        """An HttpOnly, SameSite=Strict cookie for /console."""
        response.set_cookie(name, value, path="/console", httponly=True, samesite="Strict",
                            secure=self.secure(request), max_age=max_age)

    def clear_cookie(self, response: web.StreamResponse, name: str) -> None:
        """Remove a console cookie."""
        response.del_cookie(name, path="/console")


def same_origin(request: web.Request) -> bool:
    """False when the browser says the request came from another site (Origin or Referer).

    The console's pages send no referrer, so browsers post with `Origin: null`: that says nothing
    either way, and the CSRF token (with SameSite=Strict cookies) decides.
    """
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin or origin == "null":
        return True
    return urlparse(origin).netloc == request.host


def csrf_ok(session_token: str, given: Optional[str]) -> bool:
    """Constant-time comparison of the CSRF token the form or header carried."""
    return bool(given) and hmac.compare_digest(session_token.encode(), str(given).encode())


def client_address(request: web.Request) -> str:
    """The peer address (the proxy's, behind one: the login limit then also covers the proxy)."""
    return request.remote or "unknown"


async def ensure_first_supervisor(accounts: Accounts, settings: Settings) -> Optional[dict[str, Any]]:
    """Create the first supervisor ('admin') if there is none; returns what to tell whoever started us.

    The password is SAFELINE_ADMIN_PASSWORD (bot.stack generates a one-time one when it is unset),
    else one generated here; the TOTP secret is SAFELINE_ADMIN_TOTP_SECRET or generated.
    """
    if any(a.get("role") == "supervisor" for a in await accounts.all()):
        return None
    generated = settings.admin_password is None
    password = settings.admin_password or new_password()
    # A configured password is taken as it is, but a weak one must be replaced at the first login.
    weak = not generated and password_problem(password) is not None
    secret = await accounts.create("admin", password, "supervisor", totp_secret=settings.admin_totp_secret,
                                   must_change_password=generated or weak or settings.admin_password_one_time,
                                   check_policy=False)
    return {"username": "admin", "password": password if generated else None,
            "totp_secret": secret, "totp_uri": accounts.provisioning_uri("admin", secret)}
