"""Byte-reproducible Lambda artifacts: one zip per function and one dependency layer.

Reproducible means the same inputs give the same sha256 on any day and any machine: entries are
sorted, timestamps and permissions are fixed, and nothing stray is packed (no `__pycache__` or
`.pyc` of the build host). Each artifact records a digest of its inputs, so a build with
unchanged inputs rebuilds nothing. The result is `dist/manifest.json`, which publish, promote and
Terraform read.

Every packed `.py` travels with its bytecode, `__pycache__/<name>.cpython-312.pyc`, compiled by
Lambda's Python (`LAMBDA_PYTHON`) with hash-based, unchecked invalidation: Lambda's `/var/task`
and `/opt` are read-only, so without it every cold start compiles each module it imports from
source (`chat_api`'s import: about 3× the CPU). An unchecked-hash pyc holds the source's hash
instead of its mtime, and is compiled with a fixed hash seed, from a staged copy of the sources
(never into the tree), each module right after a throwaway compile of itself, so its bytes do not
depend on what else the same interpreter compiled before (see `_COMPILE`): the zips stay
reproducible, a module rebuilt alone included. The interpreter's exact version is one of the
inputs.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tasks.core.manifest import ROOT, Architecture, Function, Manifest

BUILDER_VERSION = "3"
"""Bump when the packing rules change, so every artifact is rebuilt once."""

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o644
LAMBDA_PYTHON = "3.12"
PLATFORMS: dict[str, str] = {
    # Lambda's python3.12 runtime is Amazon Linux 2023, glibc 2.34.
    "arm64": "aarch64-manylinux_2_34",
    "x86_64": "x86_64-manylinux_2_34",
}
ELF_MACHINE = {"arm64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64
PYC_TAG = f"cpython-{LAMBDA_PYTHON.replace('.', '')}"
"""The bytecode's file-name tag: Lambda's interpreter reads only its own version's pycs."""
_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", "tests"}
_SKIP_SUFFIXES = {".pyc", ".pyo"}
MB = 1024 * 1024


@dataclass(frozen=True)
class Budgets:
    """Size limits; the defaults keep cold starts short and stay far from Lambda's hard limits."""

    function_zip: int = 1 * MB
    layer_zip: int = 50 * MB
    unzipped_total: int = 250 * MB  # Lambda's limit for code + layers, unzipped


class BuildError(Exception):
    """A build failed for a reason the user can fix; the message says which and how."""


@dataclass
class Artifact:
    key: str
    kind: str
    path: Path
    size: int
    unzipped_size: int
    sha256: str
    inputs: str
    extra: dict[str, Any] = field(default_factory=dict)
    rebuilt: bool = True

    def record(self, root: Path) -> dict[str, Any]:
        digest = bytes.fromhex(self.sha256)
        return {
            "kind": self.kind,
            "path": self.path.relative_to(root).as_posix(),
            "size": self.size,
            "unzipped_size": self.unzipped_size,
            "sha256": self.sha256,
            "sha256_base64": base64.b64encode(digest).decode(),
            "s3_key": f"sha256/{self.sha256}.zip",
            "inputs": self.inputs,
            **self.extra,
        }


def source_files(folder: Path) -> Iterator[tuple[str, Path]]:
    """The files of a code folder as (archive name, path), without generated or test files."""
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder.parent)
        if not path.is_file() or _SKIP_DIRS.intersection(rel.parts):
            continue
        if path.suffix in _SKIP_SUFFIXES or path.name.startswith("."):
            continue
        yield rel.as_posix(), path


def write_zip(entries: Iterable[tuple[str, Path]], out: Path) -> int:
    """Write a deterministic zip; return the total unzipped size."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    total = 0
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = (0o100000 | FILE_MODE) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever the build host
            data = path.read_bytes()
            total += len(data)
            zf.writestr(info, data, compresslevel=9)
    tmp.replace(out)
    return total


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def digest_inputs(parts: Iterable[str | bytes]) -> str:
    digest = hashlib.sha256(BUILDER_VERSION.encode())
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _files_digest(entries: list[tuple[str, Path]], *extra: str) -> str:
    return digest_inputs([*extra, *(f"{n}:{sha256_file(p)}" for n, p in entries)])


_COMPILE = """
import json, py_compile, sys
failed = []
for source, cfile, dfile in json.load(sys.stdin):
    # Marshal marks an object it may meet again by its reference count, and compiling a module
    # interns its names for good: the same source compiled first, or after a module that shares
    # some of its strings, gave different bytes. A throwaway compile of the module itself
    # interns everything its real compile would, whatever came before.
    try:
        with open(source, "rb") as fh:
            compile(fh.read(), dfile, "exec", dont_inherit=True, optimize=0)
    except (SyntaxError, ValueError):
        pass
    try:
        py_compile.compile(source, cfile=cfile, dfile=dfile, doraise=True, optimize=0,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError as exc:
        failed.append([dfile, exc.msg.strip().splitlines()[-1]])
print(json.dumps(failed))
"""
_COMPILER = hashlib.sha256(f"{BUILDER_VERSION}\0{_COMPILE}".encode()).hexdigest()
"""Part of each cached pyc's key: a change to how they are compiled compiles them again."""


def pyc_name(arcname: str) -> str:
    """Where the bytecode of `arcname` (a `.py` in a zip) goes: its folder's `__pycache__`."""
    folder, _, name = arcname.rpartition("/")
    return f"{folder}/__pycache__/{name[:-3]}.{PYC_TAG}.pyc".removeprefix("/")


class Bytecode:
    """Compiles packed sources with Lambda's Python, each distinct file once (cached by its
    archive name, its content, the interpreter's version and `_COMPILER`, under `cache`).

    The sources must not change while a build reads them (a staged copy): a pyc is cached
    under the content read for its key."""

    def __init__(self, cache: Path, python: str | None = None) -> None:
        self.cache = cache
        self._python = python
        self._version: str | None = None

    @property
    def python(self) -> str:
        if self._python is None:
            self._python = find_python(LAMBDA_PYTHON)
        if self._python is None:
            raise BuildError(
                f"Python {LAMBDA_PYTHON} (Lambda's runtime) compiles the artifacts' bytecode and "
                f"was not found: install it (`uv python install {LAMBDA_PYTHON}` or "
                f"`pyenv install {LAMBDA_PYTHON}`) and build again"
            )
        return self._python

    @property
    def version(self) -> str:
        """The interpreter's exact version: its compiler decides the bytes."""
        if self._version is None:
            done = subprocess.run(
                [self.python, "-c", "import sys; print(sys.version.split()[0])"],
                capture_output=True,
                text=True,
                check=True,
            )
            self._version = done.stdout.strip()
        return self._version

    def compile(
        self, entries: Iterable[tuple[str, Path]], *, strict: bool = True
    ) -> list[tuple[str, Path]]:
        """The bytecode entries of every `.py` among `entries`. A source that does not compile
        is a BuildError when `strict` (Parley's own code); otherwise (a third-party file no
        import reaches, e.g. Python 2 examples) it is packed as source only."""
        self.cache.mkdir(parents=True, exist_ok=True)
        out: list[tuple[str, Path]] = []
        jobs: list[tuple[str, str, str]] = []
        for arcname, path in entries:
            if not arcname.endswith(".py"):
                continue
            key = hashlib.sha256(
                f"{_COMPILER}\0{self.version}\0{arcname}\0".encode() + path.read_bytes()
            ).hexdigest()
            cfile = self.cache / f"{key}.pyc"
            if not cfile.exists():
                jobs.append((str(path), str(cfile), arcname))
            out.append((pyc_name(arcname), cfile))
        failed: list[list[str]] = []
        if jobs:
            done = subprocess.run(
                [self.python, "-S", "-c", _COMPILE],
                input=json.dumps(jobs),
                capture_output=True,
                text=True,
                check=False,
                # A fixed hash seed: the order of a set constant's items is in the bytes.
                env={"PATH": os.environ.get("PATH", "/usr/bin"), "PYTHONHASHSEED": "0"},
            )
            if done.returncode != 0:
                raise BuildError(f"compiling bytecode failed:\n{done.stderr.strip()[-3000:]}")
            failed = json.loads(done.stdout.strip().splitlines()[-1])
        if failed and strict:
            problems = "\n".join(f"  {name}: {reason}" for name, reason in failed)
            raise BuildError(
                f"these sources do not compile with Python {self.version}:\n{problems}"
            )
        skipped = {pyc_name(name) for name, _ in failed}
        return [(name, path) for name, path in out if name not in skipped]


@dataclass
class Builder:
    """Builds every artifact of a manifest into `dist/`, reusing what is up to date."""

    manifest: Manifest
    functions_dir: Path = ROOT / "functions"
    dist: Path = ROOT / "dist"
    lock_file: Path = ROOT / "uv.lock"
    project_dir: Path = ROOT
    budgets: Budgets = Budgets()
    log: Callable[[str], None] = print
    uv_args: tuple[str, ...] = ()
    """Extra arguments for `uv pip install` (tests point it at a local index)."""
    pinned: str | None = None
    """Requirements to install instead of the lock file's runtime set (tests)."""
    python: str | None = None
    """Lambda's Python, which compiles the bytecode (default: `find_python()`)."""
    _bytecode: Bytecode | None = field(default=None, init=False, repr=False)

    @property
    def bytecode(self) -> Bytecode:
        if self._bytecode is None:
            self._bytecode = Bytecode(self.dist / ".bytecode", self.python)
        return self._bytecode

    @property
    def state_path(self) -> Path:
        return self.dist / ".inputs.json"

    def _state(self) -> dict[str, Any]:
        try:
            state: dict[str, Any] = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {}
        return state

    def _reuse(self, key: str, inputs: str, path: Path) -> Artifact | None:
        previous = self._state().get(key)
        if not previous or previous.get("inputs") != inputs or not path.exists():
            return None
        if sha256_file(path) != previous["sha256"]:
            return None  # edited or truncated by hand: rebuild
        return Artifact(
            key=key,
            kind=previous["kind"],
            path=path,
            size=previous["size"],
            unzipped_size=previous["unzipped_size"],
            sha256=previous["sha256"],
            inputs=inputs,
            extra={k: v for k, v in previous.items() if k in ("architecture", "entry")},
            rebuilt=False,
        )

    # -- functions -------------------------------------------------------------------------

    def function(self, function: Function) -> Artifact:
        """Zip the handler package with the shared `parley` core, nothing else."""
        handler_dir = self.functions_dir / function.package
        if not (handler_dir / "__init__.py").exists():
            raise BuildError(
                f"functions/{function.package}/__init__.py is missing: the manifest's handler "
                f"'{function.handler}' has no package to build"
            )
        entry = function.model_dump(mode="json", by_alias=True, exclude_none=True)
        key = f"function:{function.name}"
        out = self.dist / "functions" / f"{function.name}.zip"
        # One read of the tree: the digest, the bytecode and the zip all see the same sources,
        # even if a file is saved mid-build, and the bytecode is compiled from a staged copy.
        sources = [
            (name, path.read_bytes())
            for name, path in [
                *source_files(handler_dir),
                *source_files(self.functions_dir / "parley"),
            ]
        ]
        inputs = digest_inputs(
            [
                json.dumps(entry, sort_keys=True),
                f"python {self.bytecode.version}",
                *(f"{name}:{hashlib.sha256(data).hexdigest()}" for name, data in sources),
            ]
        )
        artifact = self._reuse(key, inputs, out)
        if artifact is None:
            with tempfile.TemporaryDirectory(prefix="parley-function-") as tmp:
                entries = _stage(sources, Path(tmp))
                unzipped = write_zip([*entries, *self.bytecode.compile(entries)], out)
            artifact = Artifact(
                key, "function", out, out.stat().st_size, unzipped, sha256_file(out), inputs
            )
        artifact.extra = {"architecture": self.manifest.architecture(function), "entry": entry}
        if artifact.size > self.budgets.function_zip:
            raise BuildError(
                f"function {function.name}: zip is {_mb(artifact.size)}, over the "
                f"{_mb(self.budgets.function_zip)} budget — keep third-party code in the layer"
            )
        return artifact

    # -- layer -----------------------------------------------------------------------------

    def requirements(self) -> str:
        """The runtime dependency set, exactly as locked (no dev groups), with file hashes."""
        if self.pinned is not None:
            return self.pinned
        result = subprocess.run(
            [
                "uv",
                "export",
                "--frozen",
                "--no-dev",
                "--no-emit-project",
                "--no-header",
                "--no-annotate",
                "--python",
                LAMBDA_PYTHON,
            ],
            cwd=self.project_dir,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise BuildError(
                f"cannot read the runtime set from {self.lock_file.name}:\n{result.stderr.strip()}"
            )
        return result.stdout

    def layer(self, architecture: Architecture) -> Artifact:
        """Install the locked runtime set for Lambda's platform, binary wheels only, and zip it."""
        requirements = self.requirements()
        key = f"layer:{self.manifest.layer.name}" + (
            "" if architecture == "arm64" else f"-{architecture}"
        )
        out = self.dist / "layers" / f"{self.manifest.layer.name}-{architecture}.zip"
        inputs = digest_inputs(
            [requirements, architecture, LAMBDA_PYTHON, self.bytecode.version, *self.uv_args]
        )
        artifact = self._reuse(key, inputs, out)
        if artifact is None:
            with tempfile.TemporaryDirectory(prefix="parley-layer-") as tmp:
                target = Path(tmp) / "python"
                req = Path(tmp) / "requirements.txt"
                req.write_text(requirements)
                count = sum(1 for line in requirements.splitlines() if line[:1].isalnum())
                self.log(
                    f"  installing {count} locked packages for "
                    f"python{LAMBDA_PYTHON} {PLATFORMS[architecture]} (binary wheels only)…"
                )
                self._install(req, target, architecture)
                entries = [
                    (f"python/{p.relative_to(target).as_posix()}", p)
                    for p in sorted(target.rglob("*"))
                    if _layer_file(target, p)
                ]
                compiled = self.bytecode.compile(entries, strict=False)
                self.log(f"  zipping {len(entries)} files and {len(compiled)} compiled modules…")
                unzipped = write_zip([*entries, *compiled], out)
            artifact = Artifact(
                key, "layer", out, out.stat().st_size, unzipped, sha256_file(out), inputs
            )
        artifact.extra = {"architecture": architecture}
        if artifact.size > self.budgets.layer_zip:
            raise BuildError(
                f"layer {self.manifest.layer.name} ({architecture}): zip is "
                f"{_mb(artifact.size)}, over the {_mb(self.budgets.layer_zip)} budget"
            )
        return artifact

    def _install(self, requirements: Path, target: Path, architecture: Architecture) -> None:
        cmd = [
            "uv",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--target",
            str(target),
            "--python-version",
            LAMBDA_PYTHON,
            "--python-platform",
            PLATFORMS[architecture],
            "--no-compile",
            "-r",
            str(requirements),
            *self.uv_args,
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode == 0:
            return
        missing = re.findall(
            r"(?:because|Because) ([A-Za-z0-9_.-]+)(?:==[^ ]+)? has no "
            r"(?:usable )?wheels?",
            result.stderr,
        )
        missing += re.findall(
            r"no wheels? (?:with a matching [a-z ]+ )?(?:for|are available "
            r"for) `?([A-Za-z0-9_.-]+)",
            result.stderr,
        )
        if missing:
            names = ", ".join(sorted(set(missing)))
            raise BuildError(
                f"no binary wheel of {names} for python{LAMBDA_PYTHON} on "
                f"{PLATFORMS[architecture]}: the layer accepts wheels only (a source build would "
                f"compile for this machine, not Lambda). Pin a version that ships one or drop it."
            )
        raise BuildError(f"installing the layer failed:\n{result.stderr.strip()}")

    # -- frontend --------------------------------------------------------------------------

    def frontend(self, bundle: Path) -> Artifact:
        """Zip the built web app (frontend/dist) so it is published and promoted like code."""
        entries = [
            (p.relative_to(bundle).as_posix(), p)
            for p in sorted(bundle.rglob("*"))
            if p.is_file() and p.name != "config.json"
        ]
        inputs = _files_digest(entries)
        out = self.dist / "frontend.zip"
        artifact = self._reuse("frontend", inputs, out)
        if artifact is None:
            unzipped = write_zip(entries, out)
            artifact = Artifact(
                "frontend", "frontend", out, out.stat().st_size, unzipped, sha256_file(out), inputs
            )
        return artifact

    # -- all -------------------------------------------------------------------------------

    def build(
        self,
        *,
        architectures: Iterable[Architecture] | None = None,
        frontend_bundle: Path | None = None,
    ) -> list[Artifact]:
        """Build every artifact, check the budgets and write `dist/manifest.json`."""
        started = time.monotonic()
        artifacts: list[Artifact] = []
        for arch in architectures or self.manifest.architectures:
            self.log(f"layer {self.manifest.layer.name} ({arch})")
            artifacts.append(self.layer(arch))
        for function in self.manifest.functions.values():
            artifacts.append(self.function(function))
        if frontend_bundle is not None:
            artifacts.append(self.frontend(frontend_bundle))
        layers = {a.extra["architecture"]: a for a in artifacts if a.kind == "layer"}
        for a in artifacts:
            if a.kind != "function" or a.extra["architecture"] not in layers:
                continue
            total = a.unzipped_size + layers[a.extra["architecture"]].unzipped_size
            if total > self.budgets.unzipped_total:
                raise BuildError(
                    f"{a.key}: code + layer unzipped is {_mb(total)}, over Lambda's "
                    f"{_mb(self.budgets.unzipped_total)} limit"
                )
        self._write(artifacts)
        for a in artifacts:
            state = "rebuilt" if a.rebuilt else "unchanged"
            self.log(
                f"  {a.key:<28} {_mb(a.size):>9} zipped {_mb(a.unzipped_size):>9} unzipped"
                f"  {a.sha256[:12]}  {state}"
            )
        rebuilt = sum(a.rebuilt for a in artifacts)
        verdict = f"{rebuilt} rebuilt" if rebuilt else "nothing changed, nothing rebuilt"
        self.log(f"{len(artifacts)} artifacts, {verdict} ({time.monotonic() - started:.1f} s)")
        return artifacts

    def _write(self, artifacts: list[Artifact]) -> None:
        records = {a.key: a.record(self.dist.parent) for a in artifacts}
        arch = self.manifest.defaults.architecture
        document = {
            "version": 1,
            "runtime": self.manifest.defaults.runtime,
            "architecture": arch,
            "artifacts": {
                k: {f: v for f, v in r.items() if f != "inputs"} for k, r in sorted(records.items())
            },
        }
        self.dist.mkdir(parents=True, exist_ok=True)
        (self.dist / "manifest.json").write_text(
            json.dumps(document, indent=2, sort_keys=True) + "\n"
        )
        state = self._state()
        state.update(records)
        self.state_path.write_text(json.dumps(state, indent=2, sort_keys=True))


_INSTALL_RECORDS = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def _layer_file(target: Path, path: Path) -> bool:
    """Whether an installed file belongs in the layer.

    Console scripts (`bin/`) carry the build host's interpreter path in their shebang, and the
    installer's records list them with hashes: neither runs on Lambda and both would make the
    layer differ from machine to machine.
    """
    rel = path.relative_to(target)
    if not path.is_file() or rel.parts[0] == "bin" or "__pycache__" in rel.parts:
        return False
    if path.suffix in _SKIP_SUFFIXES:
        return False
    return not (rel.parts[0].endswith(".dist-info") and path.name in _INSTALL_RECORDS)


def _stage(sources: Iterable[tuple[str, bytes]], folder: Path) -> list[tuple[str, Path]]:
    """Write `sources` (archive name, content) under `folder`; the copies, as zip entries."""
    staged = []
    for arcname, data in sources:
        copy = folder / arcname
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_bytes(data)
        staged.append((arcname, copy))
    return staged


def clean(dist: Path) -> None:
    shutil.rmtree(dist, ignore_errors=True)


def _mb(size: int) -> str:
    return f"{size / MB:.2f} MB"


def check_elf_architecture(layer_zip: Path, architecture: Architecture) -> list[str]:
    """Names of compiled extensions in the layer that are not built for `architecture`."""
    wrong = []
    with zipfile.ZipFile(layer_zip) as zf:
        for name in zf.namelist():
            if not re.search(r"\.so(\.\d+)*$", name):
                continue
            with zf.open(name) as fh:
                header = fh.read(20)
            if header[:4] != b"\x7fELF":
                wrong.append(f"{name} (not an ELF file)")
                continue
            machine = int.from_bytes(header[18:20], "little")
            if machine != ELF_MACHINE[architecture]:
                wrong.append(f"{name} (e_machine {machine})")
    return wrong


def smoke_import(
    function_zip: Path,
    layer: Path,
    handler: str,
    env: dict[str, str],
    python: str,
) -> subprocess.CompletedProcess[str]:
    """Import `handler` from the unpacked artifacts in an isolated interpreter (no dev venv).

    `layer` is the layer zip, or a folder it was unpacked into (as `/opt`), so several
    functions can be checked against one unpacking of the layer.
    """
    with tempfile.TemporaryDirectory(prefix="parley-smoke-") as tmp:
        code_dir, opt_dir = Path(tmp) / "task", Path(tmp) / "opt"
        zipfile.ZipFile(function_zip).extractall(code_dir)
        if layer.is_dir():
            opt_dir = layer
        else:
            zipfile.ZipFile(layer).extractall(opt_dir)
        module, func = handler.rsplit(".", 1)
        script = (
            "import sys, importlib\n"
            f"sys.path[:0] = [{str(code_dir)!r}, {str(opt_dir / 'python')!r}]\n"
            f"handler = getattr(importlib.import_module({module!r}), {func!r})\n"
            "assert callable(handler)\n"
            "bad = [m.__file__ for m in list(sys.modules.values())\n"
            "       if getattr(m, '__file__', None) and 'site-packages' in m.__file__]\n"
            "assert not bad, f'imported from outside the artifacts: {bad[:3]}'\n"
        )
        clean_env = {"PATH": os.environ.get("PATH", "/usr/bin"), "LANG": "C.UTF-8", **env}
        return subprocess.run(
            [python, "-I", "-S", "-c", script],
            env=clean_env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )


def find_python(version: str = LAMBDA_PYTHON) -> str | None:
    """An interpreter of exactly `version` (PATH, pyenv or uv's), which compiles the artifacts'
    bytecode and imports them in the smoke test."""
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += [
        str(p) for p in sorted(pyenv_root.glob(f"versions/{version}*/bin/python{version}"))
    ]
    if sys.version_info[:2] == tuple(int(x) for x in version.split(".")):
        candidates.append(sys.executable)
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    # Last, uv's own interpreters: asking costs a process, so only when nothing else is there.
    if shutil.which("uv") is None:
        return None
    found = subprocess.run(
        ["uv", "python", "find", "--no-project", version],
        capture_output=True,
        text=True,
        check=False,
    )
    answer = found.stdout.strip()
    return answer if found.returncode == 0 and answer and Path(answer).exists() else None
