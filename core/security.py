"""Passwords and tokens, in one place: argon2 hashes (pwdlib) and short-lived signed JWTs
(PyJWT, HS256). Routes and the launcher only call these.

The signing key comes from the environment (JWT_SECRET); without one, the process draws its
own at import, so tokens stop working when it restarts and are never accepted by another
process. Nothing here logs a password, a hash or a token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash

from core.config import Settings

ALGORITHM = "HS256"
#: Who issued the token and for what: a token of another system signed with a shared key
#: is still refused.
ISSUER = "grid-connection"
AUDIENCE = "grid-connection-api"

_hasher = PasswordHash.recommended()
_process_key = secrets.token_urlsafe(32)
#: Verified against when the member has no password (or does not exist), so that a failed
#: sign-in takes the same time either way and does not reveal which staff codes exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, stored: str | None) -> bool:
    if stored is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return _hasher.verify(password, stored)
    except Exception:
        return False  # a malformed stored hash never signs anyone in


def signing_key(settings: Settings) -> str:
    return settings.jwt_secret.get_secret_value() if settings.jwt_secret else _process_key


@dataclass(frozen=True)
class Token:
    access_token: str
    expires_at: datetime


def password_stamp(settings: Settings, password_hash: str | None) -> str | None:
    """A short keyed digest of the member's current password hash, carried in their tokens: a
    new password (an administrator's reset of a lost or leaked one) ends every token issued
    before it. Not the hash itself, which never leaves the database."""
    if password_hash is None:
        return None
    mac = hmac.new(signing_key(settings).encode(), password_hash.encode(), hashlib.sha256)
    return mac.hexdigest()[:16]


def create_token(
    settings: Settings, subject: str, now: datetime | None = None, *, stamp: str | None = None
) -> Token:
    issued = now or datetime.now(UTC)
    expires = issued + timedelta(minutes=settings.access_token_minutes)
    claims: dict[str, object] = {
        "sub": subject,
        "iat": issued,
        "exp": expires,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    if stamp is not None:
        claims["pwd"] = stamp
    return Token(jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM), expires)


@dataclass(frozen=True)
class Claims:
    subject: str
    #: The password stamp at sign-in (password_stamp), if the token was issued by a sign-in.
    stamp: str | None


class InvalidToken(Exception):
    """Expired, tampered with, or not one of ours; the message says which, without the token."""


def token_claims(settings: Settings, token: str) -> Claims:
    """The staff code a valid token names, and its password stamp."""
    try:
        claims = jwt.decode(
            token,
            signing_key(settings),
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "sub", "iat"]},
        )
    except jwt.ExpiredSignatureError:
        raise InvalidToken("the token has expired: sign in again") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("the token is not valid") from None
    subject, stamp = claims.get("sub"), claims.get("pwd")
    if not isinstance(subject, str) or not subject or not isinstance(stamp, str | None):
        raise InvalidToken("the token is not valid")
    return Claims(subject, stamp)
