"""moto's state saved to a file when its process stops, and read back when it starts.

moto keeps everything in memory and has no snapshot API (`/moto-api/` can reset, seed and
record requests; replaying a recording would give every user a new id, so their data would no
longer be theirs). Here moto's process pickles its backends — every service that holds
something, with every account and region — plus the local mailbox, once it has stopped serving
(so no request changes them mid-way), and puts them back before it serves again. The user pool,
its users and their ids, refresh tokens, tables and items, parameters, queues… come back as they
were, so a browser tab signed in before a restart stays signed in.

A few moto objects do not pickle as they are; they are reduced to what rebuilds them: RSA keys
(a user pool's signing key) as PEM, locks as new locks, and a `defaultdict` whose factory is a
lambda as one with an equivalent factory. The file records the moto and Python versions that
wrote it; another version refuses to load it (`SnapshotError`, saying to start clean), since
pickled internals are only meaningful to the moto that made them.

The file is the developer's own (`.local/state/` by default); like any pickle, never load one
from anywhere else.
"""

from __future__ import annotations

import functools
import io
import pickle
import sys
import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

FORMAT = 2
_LOCK_TYPES = (type(threading.Lock()), type(threading.RLock()))


class SnapshotError(Exception):
    """The saved state cannot be used; the message says what to do."""


def _load_private_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(pem, password=None)


def _load_public_key(pem: bytes) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    return load_pem_public_key(pem)


def _new_lock(reentrant: bool) -> Any:
    return threading.RLock() if reentrant else threading.Lock()


def _new_defaultdict(cls: type[defaultdict[Any, Any]], factory: Any) -> defaultdict[Any, Any]:
    made = cls.__new__(cls)
    defaultdict.__init__(made, factory)
    return made


def _portable_factory(factory: Callable[[], Any]) -> Callable[[], Any]:
    """A picklable factory making what `factory` (a lambda) makes: an empty container of a
    builtin type, or a defaultdict of such (recursively)."""
    sample = factory()
    if isinstance(sample, defaultdict):
        inner = sample.default_factory
        if inner is None:
            return defaultdict
        return functools.partial(defaultdict, _portable_factory(inner))
    if type(sample) in (dict, list, set, int, float, str, tuple) and not sample:
        return type(sample)
    raise SnapshotError(f"cannot save a defaultdict whose factory makes {sample!r}")


def _picklable(factory: Any) -> bool:
    try:
        pickle.dumps(factory)
    except (pickle.PicklingError, AttributeError, TypeError):
        return False
    return True


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        if isinstance(obj, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            pem = obj.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            return _load_private_key, (pem,)
        if isinstance(obj, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            pem = obj.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            return _load_public_key, (pem,)
        if isinstance(obj, _LOCK_TYPES):
            return _new_lock, (isinstance(obj, _LOCK_TYPES[1]),)
        if isinstance(obj, defaultdict):
            factory = obj.default_factory
            portable = factory is None or _picklable(factory)
            if portable and type(obj) is defaultdict:
                return NotImplemented
            if not portable:
                factory = _portable_factory(factory)  # type: ignore[arg-type]
            # a subclass (moto's ssm.ParameterDict) may take other __init__ arguments
            state = getattr(obj, "__dict__", None) or None
            return _new_defaultdict, (type(obj), factory), state, None, iter(obj.items())
        return NotImplemented


def _versions() -> dict[str, str]:
    import moto

    return {"moto": moto.__version__, "python": f"{sys.version_info[0]}.{sys.version_info[1]}"}


def _kind(backend_dict: Any) -> str:
    """Which backend a `BackendDict` holds, as `module:Class`. A service may have more than one
    (Step Functions: its plain backend and the one that executes state machines), so the
    service name alone does not say where a backend goes back."""
    cls = backend_dict.backend
    return f"{cls.__module__}:{cls.__qualname__}"


def _backend_dict(kind: str) -> Any:
    """The `BackendDict` of this process holding backends of `kind`: the one its class's module
    defines, else the service's own (moto registers one only once it is used)."""
    import importlib

    from moto.core.base_backend import BackendDict

    module_name, _, name = kind.partition(":")
    module = importlib.import_module(module_name)
    for value in vars(module).values():
        if isinstance(value, BackendDict) and _kind(value) == kind:
            return value
    raise SnapshotError(f"this moto has no {name} backend: start clean with `invoke dev --fresh`")


def capture(extra: dict[str, Any] | None = None) -> bytes:
    """moto's backends (every kind holding something) and `extra`, pickled."""
    from moto.core.base_backend import BackendDict

    backends: dict[str, dict[str, dict[str, Any]]] = {}
    instances: list[Any] = BackendDict._instances  # type: ignore[misc]
    for backend_dict in list(instances):
        kind = _kind(backend_dict)
        for account, regions in list(backend_dict.items()):
            for region, backend in list(regions.items()):
                backends.setdefault(kind, {}).setdefault(account, {})[region] = backend
    buffer = io.BytesIO()
    document = {"format": FORMAT, **_versions(), "backends": backends, "extra": extra or {}}
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(document)
    return buffer.getvalue()


def apply(data: bytes) -> dict[str, Any]:
    """Put pickled backends back into this (fresh) moto process; returns the saved `extra`."""
    document = pickle.loads(data)  # noqa: S301 - the developer's own file, written by `capture`
    expected = {"format": FORMAT, **_versions()}
    found = {key: document.get(key) for key in expected}
    if found != expected:
        raise SnapshotError(
            f"the saved local data was written by moto {found['moto']} on Python"
            f" {found['python']} (format {found['format']}); this is moto {expected['moto']} on"
            f" Python {expected['python']}: start clean with `invoke dev --fresh`"
        )
    for kind, accounts in document["backends"].items():
        backend_dict = _backend_dict(kind)
        for account, regions in accounts.items():
            account_backends = backend_dict[account]
            for region, backend in regions.items():
                dict.__setitem__(account_backends, region, backend)
    extra: dict[str, Any] = document["extra"]
    return extra


def save(path: Path, extra: dict[str, Any] | None = None) -> int:
    """Write the snapshot atomically (a crash mid-write keeps the previous one); its size."""
    data = capture(extra)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return len(data)


def load(path: Path) -> dict[str, Any] | None:
    """Restore the snapshot at `path` if there is one; its `extra`, or None when there is none."""
    if not path.exists():
        return None
    try:
        return apply(path.read_bytes())
    except SnapshotError:
        raise
    except Exception as exc:  # any unreadable file gets the same advice
        raise SnapshotError(
            f"the saved local data in {path} cannot be read ({type(exc).__name__}: {exc}):"
            " start clean with `invoke dev --fresh`"
        ) from exc
