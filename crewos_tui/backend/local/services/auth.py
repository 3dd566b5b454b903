"""Users, passwords, JWT sessions with rotating refresh tokens, and API keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlmodel import col

from ...backoff import doubling_delay
from ...errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from ...principal import ALL_SCOPES, Principal
from ...schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyInfo,
    LogoutResult,
    Me,
    Page,
    SSOProvider,
    TokenPair,
    UserCreate,
    UserInfo,
)
from ...schemas.auth import Role
from ...schemas.common import DEFAULT_LIMIT
from ..context import ServiceContext
from ..pagination import check_limit, decode_cursor, encode_cursor, paginate
from ..tables import ApiKeyRow, RefreshTokenRow, UserRow
from ._common import require_admin, require_user

KEY_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
JWT_ALGORITHM = "HS256"
LAST_USED_RESOLUTION = timedelta(seconds=60)
#: The one answer to every refused sign-in: wrong password, unknown user, throttled account.
LOGIN_REFUSED = "invalid username or password"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def hash_password(password: str, n: int) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=8, p=1, maxmem=128 * 1024 * 1024)
    return f"scrypt${n}$8$1${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, digest = stored.split("$")
        if algo != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), maxmem=128 * 1024 * 1024
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def user_info(row: UserRow) -> UserInfo:
    return UserInfo.model_validate(row)


def key_info(row: ApiKeyRow) -> ApiKeyInfo:
    return ApiKeyInfo.model_validate(row)


def principal_for_user(row: UserRow, **extra: object) -> Principal:
    return Principal(
        user_id=row.id,
        username=row.username,
        team=row.team,
        role=Role(row.role),
        namespace_grants=tuple(row.namespace_grants or ()),
        **extra,  # type: ignore[arg-type]
    )


class AuthService:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        # A real scrypt hash to check against when the username is unknown, so a
        # wrong username costs the same time as a wrong password.
        self._dummy_hash = hash_password(secrets.token_hex(8), ctx.settings.scrypt_n)

    # ---- users (command line and admin) --------------------------------------------

    async def create_user(self, principal: Principal, data: UserCreate) -> UserInfo:
        require_admin(principal)
        now = self.ctx.clock.now()
        async with self.ctx.db.transaction() as s:
            exists = await s.scalar(select(col(UserRow.id))
                                    .where(func.lower(col(UserRow.username)) == data.username.lower()))
            if exists:
                raise Conflict(f"user {data.username!r} already exists")
            row = UserRow(
                id=self.ctx.ids.new(),
                username=data.username,
                password_hash=hash_password(data.password, self.ctx.settings.scrypt_n),
                team=data.team,
                role=data.role.value,
                namespace_grants=list(data.namespace_grants),
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            await s.flush()
            await self.ctx.events.emit(s, principal, "user.created", "user", row.id, username=row.username,
                                       role=row.role, team=row.team)
            return user_info(row)

    async def list_users(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[UserInfo]:
        require_admin(principal)
        async with self.ctx.db.read() as s:
            return await paginate(s, select(UserRow), [col(UserRow.id)], lambda r: [r.id], user_info,
                                  limit=limit, cursor=cursor)

    async def set_password(self, principal: Principal, username: str, password: str) -> UserInfo:
        require_admin(principal)
        if not 8 <= len(password) <= 1024:
            raise Invalid("password must be 8 to 1024 characters")
        async with self.ctx.db.transaction() as s:
            row = await s.scalar(select(UserRow).where(col(UserRow.username) == username))
            if row is None:
                raise NotFound(f"user {username!r} not found")
            row.password_hash = hash_password(password, self.ctx.settings.scrypt_n)
            row.failed_logins = 0
            row.locked_until = None
            row.updated_at = self.ctx.clock.now()
            # A new password ends every existing session.
            await s.execute(
                update(RefreshTokenRow)
                .where(col(RefreshTokenRow.user_id) == row.id, col(RefreshTokenRow.revoked_at).is_(None))
                .values(revoked_at=row.updated_at)
            )
            await self.ctx.events.emit(s, principal, "user.password_set", "user", row.id)
            return user_info(row)

    async def ensure_admin(self, password: str | None = None) -> str | None:
        """On an empty database create user ``admin``; returns the password used."""
        async with self.ctx.db.read() as s:
            if await s.scalar(select(func.count()).select_from(UserRow)):
                return None
        password = password or secrets.token_urlsafe(12)
        await self.create_user(Principal.system(), UserCreate(username="admin", password=password, role=Role.admin))
        return password

    async def principal_for(self, username: str) -> Principal:
        """The principal of a local user (local mode, ``--as``)."""
        async with self.ctx.db.read() as s:
            row = await s.scalar(select(UserRow).where(col(UserRow.username) == username))
        if row is None:
            raise NotFound(f"user {username!r} not found")
        if row.disabled:
            raise Forbidden(f"user {username!r} is disabled")
        return principal_for_user(row, auth_method="local")

    # ---- login, refresh, logout ----------------------------------------------------

    def _access_token(self, user: UserRow, session_id: str, now: datetime) -> str:
        ttl = self.ctx.settings.access_token_ttl
        claims = {
            "sub": user.id,
            "sid": session_id,
            "typ": "access",
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": secrets.token_hex(8),
        }
        import jwt  # PyJWT imports cryptography (~0.2 s): only the server and sign-in need it

        return jwt.encode(claims, self.ctx.settings.jwt_secret, algorithm=JWT_ALGORITHM)

    def _issue(self, s, user: UserRow, session_id: str, now: datetime) -> tuple[TokenPair, RefreshTokenRow]:  # noqa: ANN001
        raw = secrets.token_urlsafe(32)
        row = RefreshTokenRow(
            id=self.ctx.ids.new(),
            user_id=user.id,
            session_id=session_id,
            token_hash=_sha256(raw),
            created_at=now,
            expires_at=now + self.ctx.settings.refresh_token_ttl,
        )
        s.add(row)
        pair = TokenPair(
            access_token=self._access_token(user, session_id, now),
            refresh_token=raw,
            expires_in=int(self.ctx.settings.access_token_ttl.total_seconds()),
        )
        return pair, row

    def login_delay(self, failures: int) -> timedelta | None:
        """The wait an account gets after ``failures`` consecutive wrong passwords (None: none yet)."""
        settings = self.ctx.settings
        return doubling_delay(failures, free=settings.max_failed_logins, first=settings.login_delay_first,
                              maximum=settings.login_delay_max)

    async def login(self, principal: Principal, username: str, password: str) -> TokenPair:
        now = self.ctx.clock.now()
        async with self.ctx.db.transaction() as s:
            user = await s.scalar(select(UserRow).where(col(UserRow.username) == username))
            # Every refusal below is the same 401 after exactly one password hash check:
            # the answer and its time say nothing about whether the account exists or waits.
            right = verify_password(password, user.password_hash if user else self._dummy_hash)
            if user is None:
                raise Unauthorized(LOGIN_REFUSED)
            if user.locked_until and _aware(user.locked_until) > now:
                # Throttled: refused even with the right password, and not counted, so
                # guesses made during the wait do not lengthen it.
                raise Unauthorized(LOGIN_REFUSED)
            if not right:
                user.failed_logins += 1
                # The counter change is a state change: audited like any other.
                await self.ctx.events.emit(s, principal, "auth.login_failed", "user", user.id, username=user.username,
                                           failed_logins=user.failed_logins)
                delay = self.login_delay(user.failed_logins)
                if delay is not None:
                    user.locked_until = now + delay
                    await self.ctx.events.emit(s, principal, "user.throttled", "user", user.id,
                                               username=user.username, failed_logins=user.failed_logins,
                                               delay_seconds=delay.total_seconds())
                # Commit the counter, then refuse: the failure itself must persist.
                await s.commit()
                raise Unauthorized(LOGIN_REFUSED)
            if user.disabled:
                raise Forbidden("this account is disabled")
            user.failed_logins = 0
            user.locked_until = None
            pair, _ = self._issue(s, user, self.ctx.ids.new(), now)
            await self.ctx.events.emit(s, principal_for_user(user, auth_method="password"), "auth.login", "user",
                                       user.id)
            return pair

    async def refresh(self, principal: Principal, refresh_token: str) -> TokenPair:
        require_user(principal)
        now = self.ctx.clock.now()
        async with self.ctx.db.transaction() as s:
            row = await s.scalar(select(RefreshTokenRow)
                                 .where(col(RefreshTokenRow.token_hash) == _sha256(refresh_token)))
            if row is None or (principal.user_id and row.user_id != principal.user_id):
                raise Unauthorized("refresh token is not valid")
            if row.revoked_at is not None:
                if row.replaced_by:
                    # A rotated token came back: someone copied it. End the whole session.
                    await s.execute(
                        update(RefreshTokenRow)
                        .where(col(RefreshTokenRow.session_id) == row.session_id,
                               col(RefreshTokenRow.revoked_at).is_(None))
                        .values(revoked_at=now)
                    )
                    await s.commit()
                raise Unauthorized("refresh token was already used or revoked; sign in again")
            if _aware(row.expires_at) <= now:
                raise Unauthorized("refresh token has expired; sign in again")
            user = await s.get(UserRow, row.user_id)
            if user is None or user.disabled:
                raise Unauthorized("account is not active")
            pair, new_row = self._issue(s, user, row.session_id, now)
            row.revoked_at = now
            row.replaced_by = new_row.id
            await self.ctx.events.emit(s, principal_for_user(user, auth_method="jwt"), "auth.refreshed", "user",
                                       user.id, session_id=row.session_id)
            return pair

    async def _revoke(self, s, where, now: datetime) -> int:  # noqa: ANN001
        result = await s.execute(
            update(RefreshTokenRow).where(*where, col(RefreshTokenRow.revoked_at).is_(None)).values(revoked_at=now)
        )
        return int(result.rowcount or 0)

    async def logout(self, principal: Principal, refresh_token: str | None = None) -> LogoutResult:
        require_user(principal)
        now = self.ctx.clock.now()
        async with self.ctx.db.transaction() as s:
            if refresh_token:
                where = [col(RefreshTokenRow.token_hash) == _sha256(refresh_token),
                         col(RefreshTokenRow.user_id) == principal.user_id]
            elif principal.session_id:
                where = [col(RefreshTokenRow.session_id) == principal.session_id]
            else:
                raise Invalid("give the refresh_token to revoke (this credential has no login session)")
            n = await self._revoke(s, where, now)
            if n:
                await self.ctx.events.emit(s, principal, "auth.logout", "user", principal.user_id or "", revoked=n)
            return LogoutResult(revoked=n)

    async def logout_all(self, principal: Principal) -> LogoutResult:
        require_user(principal)
        now = self.ctx.clock.now()
        async with self.ctx.db.transaction() as s:
            n = await self._revoke(s, [col(RefreshTokenRow.user_id) == principal.user_id], now)
            await self.ctx.events.emit(s, principal, "auth.logout_all", "user", principal.user_id or "", revoked=n)
            return LogoutResult(revoked=n)

    async def me(self, principal: Principal) -> Me:
        require_user(principal)
        async with self.ctx.db.read() as s:
            user = await s.get(UserRow, principal.user_id) if principal.user_id else None
        if user is None:
            raise NotFound("the caller is not a user of this workspace")
        return Me(
            id=user.id,
            username=user.username,
            team=user.team,
            role=Role(user.role),
            namespace_grants=list(user.namespace_grants or []),
            auth_method=principal.auth_method,
        )

    # ---- authenticating credentials (used by the server) ---------------------------

    async def authenticate_jwt(self, token: str, *, allow_expired: bool = False) -> Principal:
        import jwt

        try:
            claims = jwt.decode(
                token,
                self.ctx.settings.jwt_secret,
                algorithms=[JWT_ALGORITHM],
                options={"verify_exp": not allow_expired, "require": ["sub", "sid", "exp"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("access token has expired; refresh it or sign in again") from None
        except jwt.PyJWTError:
            raise Unauthorized("access token is not valid") from None
        if claims.get("typ") != "access":
            raise Unauthorized("access token is not valid")
        async with self.ctx.db.read() as s:
            user = await s.get(UserRow, claims["sub"])
            live = await s.scalar(
                select(func.count()).select_from(RefreshTokenRow).where(
                    col(RefreshTokenRow.session_id) == claims["sid"], col(RefreshTokenRow.revoked_at).is_(None)
                )
            )
        if user is None or user.disabled:
            raise Unauthorized("account is not active")
        if not live:
            raise Unauthorized("this login session has ended; sign in again")
        return principal_for_user(user, auth_method="jwt", session_id=claims["sid"])

    async def authenticate_api_key(self, raw_key: str) -> Principal:
        parts = raw_key.split("_", 2)
        if len(parts) != 3 or parts[0] != "crewos" or len(parts[1]) != 8:
            raise Unauthorized("API key is not valid")
        now = self.ctx.clock.now()
        async with self.ctx.db.read() as s:
            key = await s.scalar(select(ApiKeyRow).where(col(ApiKeyRow.prefix) == parts[1]))
            user = await s.get(UserRow, key.user_id) if key else None
        if key is None or user is None or not hmac.compare_digest(key.key_hash, _sha256(raw_key)):
            raise Unauthorized("API key is not valid")
        if key.revoked_at is not None:
            raise Unauthorized("API key has been revoked")
        if key.expires_at is not None and _aware(key.expires_at) <= now:
            raise Unauthorized("API key has expired")
        if user.disabled:
            raise Unauthorized("account is disabled")
        if key.last_used_at is None or now - _aware(key.last_used_at) >= LAST_USED_RESOLUTION:
            async with self.ctx.db.transaction() as s:
                await s.execute(update(ApiKeyRow).where(col(ApiKeyRow.id) == key.id).values(last_used_at=now))
        return principal_for_user(user, auth_method="api_key", scopes=frozenset(key.scopes), api_key_id=key.id)

    # ---- API keys ------------------------------------------------------------------

    @staticmethod
    def _require_key_manager(principal: Principal) -> None:
        require_user(principal)
        if principal.auth_method == "api_key":
            raise Forbidden("API keys cannot list, create or revoke API keys; sign in with a password for that")
        if principal.user_id is None:
            raise Forbidden("API keys belong to a user; act as a user to manage them")

    async def list_api_keys(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[ApiKeyInfo]:
        self._require_key_manager(principal)
        async with self.ctx.db.read() as s:
            stmt = select(ApiKeyRow).where(col(ApiKeyRow.user_id) == principal.user_id)
            return await paginate(s, stmt, [col(ApiKeyRow.id)], lambda r: [r.id], key_info,
                                  limit=limit, cursor=cursor, descending=True)

    async def create_api_key(self, principal: Principal, data: ApiKeyCreate) -> ApiKeyCreated:
        self._require_key_manager(principal)
        now = self.ctx.clock.now()
        expires_at = _aware(data.expires_at) if data.expires_at else None
        if expires_at is not None and expires_at <= now:
            raise Invalid("expires_at must be in the future")
        scopes = sorted({s.value for s in data.scopes}) if data.scopes is not None else sorted(ALL_SCOPES)
        if not scopes:
            raise Invalid("scopes must name at least one of: read, write")
        async with self.ctx.db.transaction() as s:
            clash = await s.scalar(
                select(col(ApiKeyRow.id)).where(
                    col(ApiKeyRow.user_id) == principal.user_id, col(ApiKeyRow.name) == data.name,
                    col(ApiKeyRow.revoked_at).is_(None),
                )
            )
            if clash:
                raise Conflict(f"you already have an active API key named {data.name!r}")
            while True:
                prefix = "".join(secrets.choice(KEY_PREFIX_ALPHABET) for _ in range(8))
                if not await s.scalar(select(col(ApiKeyRow.id)).where(col(ApiKeyRow.prefix) == prefix)):
                    break
            raw = f"crewos_{prefix}_{secrets.token_urlsafe(32)}"
            assert principal.user_id is not None  # _require_key_manager refused callers without a user
            row = ApiKeyRow(
                id=self.ctx.ids.new(),
                user_id=principal.user_id,
                name=data.name,
                prefix=prefix,
                key_hash=_sha256(raw),
                scopes=scopes,
                expires_at=expires_at,
                created_at=now,
            )
            s.add(row)
            await self.ctx.events.emit(s, principal, "api_key.created", "api_key", row.id, name=row.name,
                                       prefix=prefix, scopes=scopes)
            return ApiKeyCreated(id=row.id, name=row.name, prefix=prefix, key=raw, scopes=scopes,
                                 expires_at=expires_at, created_at=now)

    async def revoke_api_key(self, principal: Principal, key_id: str) -> ApiKeyInfo:
        self._require_key_manager(principal)
        now = self.ctx.clock.now()
        async with self.ctx.db.transaction() as s:
            row = await s.get(ApiKeyRow, key_id)
            if row is None or row.user_id != principal.user_id:
                raise NotFound(f"API key {key_id} not found")
            if row.revoked_at is not None:
                raise Conflict(f"API key {row.name!r} is already revoked")
            row.revoked_at = now
            await self.ctx.events.emit(s, principal, "api_key.revoked", "api_key", row.id, name=row.name,
                                       prefix=row.prefix)
            return key_info(row)

    async def sso_providers(
        self, principal: Principal, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> Page[SSOProvider]:
        check_limit(limit)
        providers = sorted(self.ctx.settings.sso_providers, key=lambda p: p.id)
        if cursor:
            after = decode_cursor(cursor, 1)[0]
            providers = [p for p in providers if p.id > after]
        page = providers[:limit]
        nxt = encode_cursor([page[-1].id]) if len(providers) > limit else None
        return Page[SSOProvider](items=page, next_cursor=nxt)
