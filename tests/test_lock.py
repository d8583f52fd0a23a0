"""The environment the tests run in is the locked one (requirements/lock.txt).

`scripts/setup.sh` installs the lock with `--require-hashes` and the project on top with
`--no-deps`, so two machines run the same code. These tests say when that stopped being
true: a package at another version than the lock's, one missing, one installed that the lock
does not know (left over after it was dropped, or added by hand), a dependency added to
pyproject.toml without `make lock`, or a second OpenCV next to the headless one RapidOCR
needs. The project itself (installed editable) is the only distribution left out.
"""

from __future__ import annotations

import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements" / "lock.txt"
# The image's lock: the same pins without the dev extra (Dockerfile installs it).
RUNTIME = ROOT / "requirements" / "runtime.txt"
PYPROJECT = ROOT / "pyproject.toml"
PROJECT = canonicalize_name("intake")
# The installer is not a dependency of anything: setup.sh brings it up to date itself.
INSTALLER = {canonicalize_name("pip")}
HASH = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def _logical_lines(text: str) -> list[str]:
    """The lock's requirement lines, continuations joined and comments dropped."""
    lines: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0] if not raw.lstrip().startswith("#") else ""
        line = line.strip()
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        if current.strip():
            lines.append(current.strip())
        current = ""
    if current.strip():
        lines.append(current.strip())
    return lines


def _read_lock(path: Path = LOCK) -> dict[NormalizedName, tuple[str, int]]:
    """Map each locked package to its pinned version and how many hashes it carries.

    Fails on anything a hash-checked install would not accept as an exact pin, so the
    checks below never compare against a range.
    """
    pins: dict[NormalizedName, tuple[str, int]] = {}
    for line in _logical_lines(path.read_text(encoding="utf-8")):
        hashes = HASH.findall(line)
        spec = HASH.sub("", line).strip()
        assert not spec.startswith("-"), f"锁文件中有不应出现的选项：{spec}"
        req = Requirement(spec)
        assert not req.extras, f"锁文件应去掉 extras（--strip-extras）：{spec}"
        assert req.marker is None or req.marker.evaluate(), f"锁文件中的条件不适用于本机：{spec}"
        specifiers = list(req.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", (
            f"锁文件中的每个包都应以 == 固定版本：{spec}"
        )
        name = canonicalize_name(req.name)
        assert name not in pins, f"锁文件中 {name} 出现了两次"
        pins[name] = (specifiers[0].version, len(hashes))
    return pins


def _installed() -> dict[NormalizedName, set[str]]:
    """Every distribution this interpreter sees, by normalised name, with its versions."""
    found: dict[NormalizedName, set[str]] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonicalize_name(name), set()).add(dist.version)
    return found


@pytest.fixture(scope="module")
def lock() -> dict[NormalizedName, tuple[str, int]]:
    return _read_lock()


def test_the_lock_pins_every_package_with_hashes(lock):
    assert len(lock) > 50, "锁文件几乎是空的"
    unhashed = sorted(name for name, (_, count) in lock.items() if count == 0)
    assert not unhashed, f"锁文件中这些包没有 sha256 校验值：{unhashed}"
    assert PROJECT not in lock, "项目本身不应出现在锁文件中（以 -e 单独安装）"


def test_every_locked_package_is_installed_at_the_locked_version(lock):
    installed = _installed()
    wrong = {
        name: (version, sorted(installed.get(name, set())) or "未安装")
        for name, (version, _) in lock.items()
        if installed.get(name) != {version}
    }
    assert not wrong, (
        "环境与锁文件不一致（锁定版本, 实际安装）；请删除 .venv/.installed 后运行 make setup："
        + repr(wrong)
    )


def test_nothing_is_installed_that_the_lock_does_not_know(lock):
    extra = sorted(set(_installed()) - set(lock) - INSTALLER - {PROJECT})
    assert not extra, (
        f"已安装但不在锁文件中的包：{extra}；依赖请写入 pyproject.toml 后运行 make lock，"
        "多余的请卸载"
    )


def test_the_lock_covers_pyproject_dependencies(lock):
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    env = {**default_environment(), "extra": "dev"}
    stale = []
    for spec in wanted:
        req = Requirement(spec)
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        pinned = lock.get(canonicalize_name(req.name))
        if pinned is None or not req.specifier.contains(pinned[0], prereleases=True):
            stale.append(f"{spec}（锁定：{pinned[0] if pinned else '无'}）")
    assert not stale, f"pyproject.toml 的依赖与锁文件不符，请运行 make lock：{stale}"


def test_the_image_lock_is_the_same_pins_without_the_dev_tools(lock):
    runtime = _read_lock(RUNTIME)
    differ = {
        name: (pin[0], lock.get(name)) for name, pin in runtime.items() if lock.get(name) != pin
    }
    assert not differ, f"runtime.txt 与 lock.txt 的版本或校验值数目不同，请运行 make lock：{differ}"
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    runtime_names = {canonicalize_name(Requirement(s).name) for s in project["dependencies"]}
    # The test and lint tools (some dev packages, httpx, are runtime ones' dependencies too).
    tools = {"pytest", "ruff", "playwright", "schemathesis", "axe-playwright-python"}
    assert not tools & set(runtime), f"镜像的锁文件中有开发工具：{sorted(tools & set(runtime))}"
    assert runtime_names <= set(runtime), f"镜像缺少依赖：{sorted(runtime_names - set(runtime))}"


def test_one_opencv_the_headless_one(lock):
    # RapidOCR 3.10 asks for opencv-python-headless; a second OpenCV wheel (opencv-python,
    # brought by rapidocr-onnxruntime) would overwrite the same cv2 package.
    others = {"opencv-python", "opencv-contrib-python", "opencv-contrib-python-headless"}
    assert "opencv-python-headless" in lock
    assert not others & set(lock), f"锁文件中有第二个 OpenCV：{sorted(others & set(lock))}"
    assert not others & set(_installed()), "环境中装了第二个 OpenCV"


def test_the_lock_was_made_for_this_python():
    # pip-compile writes the interpreter it resolved for; markers were evaluated for it.
    header = LOCK.read_text(encoding="utf-8").splitlines()[1]
    assert f"Python {sys.version_info.major}.{sys.version_info.minor}" in header, header
