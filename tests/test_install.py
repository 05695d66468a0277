"""A real install: a wheel built from the checkout, installed in a fresh virtualenv, run from
another folder with no config file, answers over the bundled seeds. Offline: the wheel is
built without build isolation, and the fresh venv borrows this venv's dependencies by a .pth."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.helpers import ROOT

pytestmark = pytest.mark.slow
SOURCES = ["pyproject.toml", "README.md", "config.yaml", "seeds", "bot", "retrieval"]


def sh(*argv, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, dict]:
    tmp = tmp_path_factory.mktemp("install")
    source = tmp / "source"  # a copy: building in the checkout would leave build/ behind
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / name, source / name)
    sh(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
       "-w", tmp / "dist", source)
    (wheel,) = (tmp / "dist").glob("qabot-*.whl")
    venv = tmp / "venv"
    sh(sys.executable, "-m", "venv", "--without-pip", venv)
    sh(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-deps",
       "--no-index", wheel)
    target = Path(sh(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))")
                  .stdout.strip())
    (target / "borrowed-deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    home = tmp / "home"
    (home / "elsewhere").mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("QABOT_INDEX_DIR", "PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HOME=str(home), XDG_STATE_HOME=str(home / "state"), NO_COLOR="1")
    return venv, {"env": env, "cwd": home / "elsewhere"}


def test_the_installed_package_is_the_wheel_not_the_checkout(installed):
    venv, where = installed
    done = sh(venv / "bin" / "python", "-c", "import bot, bot.config as c; print(bot.__file__); print(c.DEFAULT_CONFIG)",
              **where)
    module, config = done.stdout.splitlines()
    assert module.startswith(str(venv)) and config.startswith(str(venv)) and Path(config).is_file()


def test_installed_qabot_answers_from_any_folder_with_no_config(installed):
    venv, where = installed
    done = sh(venv / "bin" / "qabot", "ask", "影谱科技这轮融资拿了多少钱？", **where)
    assert "13.6亿元" in done.stdout and "影谱科技" in done.stdout
    assert (Path(where["env"]["HOME"]) / ".cache" / "qabot").is_dir()  # the default index folder


def test_installed_repl_and_version(installed):
    venv, where = installed
    done = sh(venv / "bin" / "qabot", "repl", input="影谱科技这轮融资拿了多少钱？\n", **where)
    assert "13.6亿元" in done.stdout
    assert sh(venv / "bin" / "qabot", "--version", **where).stdout.strip() == "qabot 0.1.0"


def test_a_config_file_still_overrides(installed, tmp_path):
    venv, where = installed
    config = tmp_path / "config.yaml"
    config.write_text("search: {k: 1}\n", encoding="utf-8")
    done = sh(venv / "bin" / "qabot", "--config", config, "ask", "--json", "影谱科技这轮融资拿了多少钱？", **where)
    assert len(json.loads(done.stdout)["passages"]) == 1  # search.k from the file (the answer has a rank too)
