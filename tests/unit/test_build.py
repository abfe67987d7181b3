"""The build system: reproducible zips, incremental rebuilds and the errors a user sees.

Layers are installed from a local wheel folder (`--no-index --find-links`), so these tests run
offline and in seconds; tests/integration/test_artifacts.py builds the real layer.
"""

from __future__ import annotations

import json
import os
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from tasks.core.artifacts import (
    Budgets,
    Builder,
    BuildError,
    check_elf_architecture,
    clean,
    find_python,
)
from tasks.core.manifest import ManifestError, load_manifest, parse_manifest

PYTHON = find_python()

MANIFEST = {
    "version": 1,
    "functions": {
        "hello": {
            "description": "says hello",
            "handler": "hello.app.handler",
            "environment": {"CHAT_TABLE_NAME": {"ref": "chat_table_name"}},
            "triggers": {"http": [{"route": "GET /hello"}]},
        }
    },
}


def _wheel(
    folder: Path, name: str, version: str = "1.0", files: dict[str, bytes] | None = None
) -> None:
    """A minimal pure-Python wheel, enough for an installer."""
    dist_info = f"{name}-{version}.dist-info"
    path = folder / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}/__init__.py", "VALUE = 1\n")
        for file, data in (files or {}).items():
            zf.writestr(f"{name}/{file}", data)
        zf.writestr(
            f"{dist_info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        zf.writestr(
            f"{dist_info}/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr(f"{dist_info}/RECORD", "")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with one function, the shared core and a local package index."""
    if PYTHON is None:
        pytest.skip("no Python 3.12 here: a build compiles the artifacts' bytecode with it")
    functions = tmp_path / "functions"
    (functions / "hello").mkdir(parents=True)
    (functions / "hello" / "__init__.py").write_text("")
    (functions / "hello" / "app.py").write_text("def handler(event, context):\n    return 'hi'\n")
    (functions / "hello" / "__pycache__").mkdir()
    (functions / "hello" / "__pycache__" / "app.cpython-312.pyc").write_bytes(b"junk")
    (functions / "hello" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"junk")
    (functions / "hello" / ".DS_Store").write_bytes(b"junk")
    (functions / "parley").mkdir()
    (functions / "parley" / "__init__.py").write_text('"""core"""\n')
    (functions / "parley" / "core.py").write_text("X = 1\n")
    (functions / "parley" / "removed.pyc").write_bytes(b"junk")  # an orphan: importable alone
    (functions / "unrelated").mkdir()
    (functions / "unrelated" / "big.py").write_text("# not part of hello\n")
    index = tmp_path / "index"
    index.mkdir()
    _wheel(
        index,
        "tinydep",
        files={
            "__pycache__/__init__.cpython-311.pyc": b"junk",
            "examples/py2.py": b'print "a Python 2 example no import reaches"\n',
        },
    )
    (index / "nowheel-1.0.tar.gz").write_bytes(b"")  # a source distribution only
    return tmp_path


def _builder(project: Path, dist: str = "dist", **kwargs: object) -> tuple[Builder, list[str]]:
    lines: list[str] = []
    options: dict[str, object] = {
        "manifest": parse_manifest(MANIFEST),
        "functions_dir": project / "functions",
        "dist": project / dist,
        "log": lines.append,
        "pinned": "tinydep==1.0\n",
        "uv_args": ("--no-index", "--find-links", str(project / "index")),
    }
    options.update(kwargs)
    return Builder(**options), lines  # type: ignore[arg-type]


def _hashes(dist: Path) -> dict[str, str]:
    document = json.loads((dist / "manifest.json").read_text())
    return {key: record["sha256"] for key, record in document["artifacts"].items()}


def test_function_zip_holds_handler_and_core_only(project: Path) -> None:
    builder, _ = _builder(project)
    builder.build()
    names = zipfile.ZipFile(project / "dist/functions/hello.zip").namelist()
    sources = ["hello/__init__.py", "hello/app.py", "parley/__init__.py", "parley/core.py"]
    compiled = [
        "hello/__pycache__/__init__.cpython-312.pyc",
        "hello/__pycache__/app.cpython-312.pyc",
        "parley/__pycache__/__init__.cpython-312.pyc",
        "parley/__pycache__/core.cpython-312.pyc",
    ]
    assert names == sorted(sources + compiled)  # the tree's own __pycache__ and .DS_Store: not
    layer = zipfile.ZipFile(project / "dist/layers/deps-arm64.zip").namelist()
    assert [n for n in layer if n.startswith("python/tinydep/")] == [
        "python/tinydep/__init__.py",
        "python/tinydep/__pycache__/__init__.cpython-312.pyc",
        "python/tinydep/examples/py2.py",  # does not compile: packed as source only
    ]
    # and the build wrote no bytecode into the tree it packed
    assert sorted(p.name for p in (project / "functions/hello/__pycache__").iterdir()) == [
        "app.cpython-311.pyc",
        "app.cpython-312.pyc",
    ]
    assert not list((project / "functions/parley").rglob("__pycache__"))


def _header(data: bytes) -> tuple[bytes, int, bytes]:
    """A pyc's magic number, flags and (hash-based) source hash (PEP 552)."""
    return data[:4], int.from_bytes(data[4:8], "little"), data[8:16]


def test_every_packed_source_carries_lambdas_unchecked_hash_bytecode(project: Path) -> None:
    assert PYTHON is not None
    builder, _ = _builder(project)
    builder.build()
    probe = (
        "import importlib.util, json, sys\n"
        "print(json.dumps([importlib.util.MAGIC_NUMBER.hex(),"
        " {p: importlib.util.source_hash(open(p, 'rb').read()).hex() for p in sys.argv[1:]}]))"
    )
    for zipped in ("dist/functions/hello.zip", "dist/layers/deps-arm64.zip"):
        archive = zipfile.ZipFile(project / zipped)
        # every source but the layer's Python 2 example, which does not compile
        sources = [n for n in archive.namelist() if n.endswith(".py") and "py2" not in n]
        unpacked = project / "unpacked" / Path(zipped).stem
        archive.extractall(unpacked)
        done = subprocess.run(
            [PYTHON, "-c", probe, *(str(unpacked / n) for n in sources)],
            capture_output=True,
            text=True,
            check=True,
        )
        magic, hashes = json.loads(done.stdout)
        assert sources
        for name in sources:
            folder, _, file = name.rpartition("/")
            pyc = f"{folder}/__pycache__/{file[:-3]}.cpython-312.pyc".removeprefix("/")
            found_magic, flags, source_hash = _header(archive.read(pyc))
            assert found_magic.hex() == magic  # Python 3.12's own
            assert flags == 0b01  # hash-based, not checked against the source
            assert source_hash.hex() == hashes[str(unpacked / name)]


def test_the_packed_bytecode_is_what_lambdas_python_imports(project: Path) -> None:
    assert PYTHON is not None
    builder, _ = _builder(project)
    builder.build()
    task = project / "task"
    zipfile.ZipFile(project / "dist/functions/hello.zip").extractall(task)
    script = (
        "import sys; sys.dont_write_bytecode = True; sys.path.insert(0, sys.argv[1])\n"
        "import hello.app\n"
    )
    # Prove the pyc is read: change the packed pyc's code, keep the source; an unchecked pyc
    # is used as it is (Lambda's read-only /var/task could not refresh it anyway).
    source = (task / "hello" / "app.py").read_text()
    (task / "hello" / "app.py").write_text(source.replace("'hi'", "'changed in source only'"))
    done = subprocess.run(
        [PYTHON, "-S", "-c", script + "print(hello.app.handler(None, None))", str(task)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "hi"


def test_manifest_json_records_every_artifact(project: Path) -> None:
    builder, _ = _builder(project)
    builder.build()
    document = json.loads((project / "dist/manifest.json").read_text())
    fn = document["artifacts"]["function:hello"]
    assert fn["path"] == "dist/functions/hello.zip"
    assert fn["s3_key"] == f"sha256/{fn['sha256']}.zip"
    assert fn["size"] == (project / fn["path"]).stat().st_size
    assert fn["entry"]["handler"] == "hello.app.handler"
    assert fn["architecture"] == "arm64"
    layer = document["artifacts"]["layer:deps"]
    assert "python/tinydep/__init__.py" in zipfile.ZipFile(project / layer["path"]).namelist()
    import base64

    assert base64.b64decode(layer["sha256_base64"]).hex() == layer["sha256"]


def test_builds_are_byte_reproducible(project: Path) -> None:
    first, _ = _builder(project, "dist-a")
    first.build()
    # GIVEN other timestamps and permissions on the sources, as on another day and machine
    for path in (project / "functions").rglob("*.py"):
        os.utime(path, (1_900_000_000, 1_900_000_000))
        path.chmod(0o600)
    second, _ = _builder(project, "dist-b")
    second.build()
    assert _hashes(project / "dist-a") == _hashes(project / "dist-b")
    info = zipfile.ZipFile(project / "dist-b/functions/hello.zip").infolist()[0]
    assert info.date_time == (1980, 1, 1, 0, 0, 0)
    assert (info.external_attr >> 16) & 0o777 == 0o644


SHARED_SETS = """
def opening(token):
    if token in {"quill", "vellum"}:
        return 1


def closing(token):
    if token in {"quill", "vellum"}:
        return 2
"""


def test_an_incremental_build_gives_the_bytes_of_a_clean_one(project: Path) -> None:
    """A pyc's bytes may depend on what the compiling interpreter compiled before it (strings
    another module made it intern): a module rebuilt alone must still get the same bytes as in
    a build that compiles everything."""
    (project / "functions/hello/app.py").write_text(
        'KINDS = ("quill", "vellum")\n\n\ndef handler(event, context):\n    return "hi"\n'
    )
    first, _ = _builder(project, "dist-a")
    first.build()
    (project / "functions/parley/core.py").write_text(SHARED_SETS)
    incremental, _ = _builder(project, "dist-a")
    assert [a.key for a in incremental.build() if a.rebuilt] == ["function:hello"]
    clean_build, _ = _builder(project, "dist-b")
    clean_build.build()
    assert _hashes(project / "dist-a") == _hashes(project / "dist-b")


def test_the_build_environment_does_not_reach_the_bytecode(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain, _ = _builder(project, "dist-a")
    plain.build()
    # GIVEN a shell that keeps bytecode elsewhere, or none, or optimizes it
    prefix = project / "pycache-prefix"
    monkeypatch.setenv("PYTHONPYCACHEPREFIX", str(prefix))
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("PYTHONOPTIMIZE", "2")
    monkeypatch.setenv("PYTHONHASHSEED", "12345")
    shell, _ = _builder(project, "dist-b")
    shell.build()
    assert _hashes(project / "dist-a") == _hashes(project / "dist-b")
    assert not prefix.exists()
    pyc = zipfile.ZipFile(project / "dist-b/functions/hello.zip").read(
        "parley/__pycache__/__init__.cpython-312.pyc"
    )
    assert b"core" in pyc  # the docstring is kept: optimize level 0


def test_without_python_312_the_build_fails_saying_what_to_install(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tasks.core.artifacts.find_python", lambda version="3.12": None)
    builder, _ = _builder(project)
    with pytest.raises(BuildError) as error:
        builder.build()
    assert str(error.value) == (
        "Python 3.12 (Lambda's runtime) compiles the artifacts' bytecode and was not found: "
        "install it (`uv python install 3.12` or `pyenv install 3.12`) and build again"
    )


def test_own_code_that_does_not_compile_fails_the_build_naming_it(project: Path) -> None:
    (project / "functions/parley/core.py").write_text("def broken(:\n")
    builder, _ = _builder(project)
    with pytest.raises(
        BuildError,
        match=r"(?s)do not compile with Python 3\.12\.\d+:\n"
        r"  parley/core\.py: .*",
    ) as error:
        builder.build()
    assert "hello/app.py" not in str(error.value)


def test_unchanged_inputs_rebuild_nothing(project: Path) -> None:
    builder, _ = _builder(project)
    builder.build()
    again, lines = _builder(project)
    artifacts = again.build()
    assert not any(a.rebuilt for a in artifacts)
    assert "nothing changed, nothing rebuilt" in lines[-1]


def test_a_source_change_rebuilds_only_what_it_touches(project: Path) -> None:
    builder, _ = _builder(project)
    before = {a.key: a.sha256 for a in builder.build()}
    (project / "functions/parley/core.py").write_text("X = 2\n")
    again, lines = _builder(project)
    after = {a.key: a for a in again.build()}
    assert after["function:hello"].rebuilt
    assert after["function:hello"].sha256 != before["function:hello"]
    assert not after["layer:deps"].rebuilt
    assert "1 rebuilt" in lines[-1]


def test_clean_then_build_gives_the_same_hashes(project: Path) -> None:
    builder, _ = _builder(project)
    builder.build()
    first = _hashes(project / "dist")
    clean(project / "dist")
    assert not (project / "dist").exists()
    again, _ = _builder(project)
    artifacts = again.build()
    assert all(a.rebuilt for a in artifacts)
    assert _hashes(project / "dist") == first


def test_a_dependency_without_a_wheel_fails_naming_it(project: Path) -> None:
    builder, _ = _builder(project, pinned="tinydep==1.0\nnowheel==1.0\n")
    with pytest.raises(BuildError) as error:
        builder.build()
    assert str(error.value) == (
        "no binary wheel of nowheel for python3.12 on aarch64-manylinux_2_34: the layer accepts "
        "wheels only (a source build would compile for this machine, not Lambda). Pin a version "
        "that ships one or drop it."
    )


def test_function_size_budget(project: Path) -> None:
    builder, _ = _builder(project, budgets=Budgets(function_zip=200))
    with pytest.raises(
        BuildError,
        match=r"^function hello: zip is 0\.00 MB, over the 0\.00 MB "
        r"budget — keep third-party code in the layer$",
    ):
        builder.build()


def test_layer_and_unzipped_budgets(project: Path) -> None:
    builder, _ = _builder(project, budgets=Budgets(layer_zip=10))
    with pytest.raises(BuildError, match=r"^layer deps \(arm64\): zip is .* over the .* budget$"):
        builder.build()
    builder, _ = _builder(project, budgets=Budgets(unzipped_total=50))
    with pytest.raises(
        BuildError,
        match=r"^function:hello: code \+ layer unzipped is .*, over "
        r"Lambda's 0\.00 MB limit$",
    ):
        builder.build()


def test_missing_handler_package(project: Path) -> None:
    data = json.loads(json.dumps(MANIFEST))
    data["functions"]["gone"] = {"description": "x", "handler": "gone.app.handler"}
    builder, _ = _builder(project, manifest=parse_manifest(data))
    with pytest.raises(BuildError, match=r"^functions/gone/__init__.py is missing"):
        builder.build()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("timeout", 1000), "functions/manifest.yaml: functions.hello.timeout: must be ≤ 900"),
        (("memory", 64), "functions/manifest.yaml: functions.hello.memory: must be ≥ 128"),
        (
            ("handler", "hello"),
            "functions/manifest.yaml: functions.hello.handler: must be "
            "'<package>.<module>.<function>', e.g. chat_api.app.handler",
        ),
        (
            ("handler", "other.app.handler"),
            "functions/manifest.yaml: functions.hello.handler: "
            "must live in functions/hello/ (got package 'other')",
        ),
        (("colour", "red"), "functions/manifest.yaml: functions.hello.colour: unknown field"),
        (
            ("environment", {"OPENAI_API_KEY": "sk-123"}),
            "functions/manifest.yaml: "
            "functions.hello.environment: Value error, OPENAI_API_KEY looks like a secret: "
            "store it in SSM and pass its name",
        ),
        (
            ("permissions", [{"resource": "table:chat", "actions": ["dynamodb:*"]}]),
            "functions/manifest.yaml: functions.hello.permissions.0.actions: Value error, "
            "'dynamodb:*' is not a 'service:Action' name (no wildcards)",
        ),
    ],
)
def test_invalid_manifest_errors(change: tuple[str, object], message: str) -> None:
    data = json.loads(json.dumps(MANIFEST))
    data["functions"]["hello"][change[0]] = change[1]
    with pytest.raises(ManifestError) as error:
        parse_manifest(data)
    assert str(error.value).replace("Value error, ", "") == message.replace("Value error, ", "")


def test_invalid_yaml_and_duplicate_routes(tmp_path: Path) -> None:
    bad = tmp_path / "manifest.yaml"
    bad.write_text("version: 1\nfunctions: [unclosed\n")
    with pytest.raises(ManifestError, match="not valid YAML"):
        load_manifest(bad)
    data = json.loads(json.dumps(MANIFEST))
    data["functions"]["other"] = {**data["functions"]["hello"], "handler": "other.app.handler"}
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(ManifestError, match=r"route 'GET /hello' is already served by hello"):
        load_manifest(bad)


def test_elf_check_names_foreign_extensions(tmp_path: Path) -> None:
    layer = tmp_path / "layer.zip"
    header = bytearray(b"\x7fELF" + b"\0" * 16)
    with zipfile.ZipFile(layer, "w") as zf:
        header[18:20] = (183).to_bytes(2, "little")
        zf.writestr("python/good.cpython-312-aarch64-linux-gnu.so", bytes(header))
        header[18:20] = (62).to_bytes(2, "little")
        zf.writestr("python/bad.cpython-312-x86_64-linux-gnu.so", bytes(header))
        zf.writestr("python/readme.txt", "not code")
    assert check_elf_architecture(layer, "arm64") == [
        "python/bad.cpython-312-x86_64-linux-gnu.so (e_machine 62)"
    ]
    assert check_elf_architecture(layer, "x86_64") == [
        "python/good.cpython-312-aarch64-linux-gnu.so (e_machine 183)"
    ]


def test_the_real_manifest_is_valid() -> None:
    manifest = load_manifest()
    assert "chat_api" in manifest.functions
    for function in manifest.functions.values():
        assert (Path("functions") / function.package).is_dir(), function.name
