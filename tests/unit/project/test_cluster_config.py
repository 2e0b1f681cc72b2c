"""cluster/cluster.yaml never exposes the Ray dashboard, job API or cluster ports without
authentication: every node starts with token authentication, the token reaches every node,
and the dashboard listens on the head's loopback only. The docs that show how to submit a
job use the same mode."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
CONFIG = ROOT / "cluster" / "cluster.yaml"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def _ray_starts(config: dict[str, object]) -> dict[str, list[str]]:
    """The ``ray start`` commands of the head and of the workers."""
    out: dict[str, list[str]] = {}
    for key in ("head_start_ray_commands", "worker_start_ray_commands"):
        commands = config.get(key) or []
        assert isinstance(commands, list), key
        out[key] = [c for c in commands if re.search(r"\bray start\b", str(c))]
        assert out[key], f"{key} starts no Ray"
    return out


def _env_and_flags(command: str) -> tuple[dict[str, str], dict[str, str]]:
    """``VAR=value`` prefixes and ``--flag=value`` options of one shell command."""
    words = shlex.split(command)
    env = {}
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    flags = {}
    for i, word in enumerate(words):
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            if not eq and i + 1 < len(words) and not words[i + 1].startswith("--"):
                value = words[i + 1]
            flags[name] = value
    return env, flags


def check_cluster_config(config: dict[str, object]) -> list[str]:
    """What in a cluster-launcher config exposes Ray without authentication (empty: none)."""
    problems = []
    starts = _ray_starts(config)
    for key, commands in starts.items():
        for command in commands:
            env, flags = _env_and_flags(command)
            if env.get("RAY_AUTH_MODE") != "token":
                problems.append(f"{key}: `ray start` without RAY_AUTH_MODE=token: {command}")
            host = flags.get("--dashboard-host")  # Ray's default is the loopback address
            if key.startswith("head") and host is not None and host not in LOOPBACK:
                problems.append(f"{key}: dashboard and job API listen on {host}: {command}")
    mounts = config.get("file_mounts") or {}
    assert isinstance(mounts, dict)
    if not any(str(remote).endswith(".ray/auth_token") for remote in mounts):
        problems.append("no file_mounts entry puts the token at ~/.ray/auth_token on the nodes")
    if re.search(r"RAY_AUTH_MODE\s*[=:]\s*\"?disabled", yaml.safe_dump(config)):
        problems.append("RAY_AUTH_MODE=disabled appears in the cluster config")
    return problems


def test_cluster_config_requires_the_token_everywhere() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    assert check_cluster_config(config) == []


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("RAY_AUTH_MODE=token", "RAY_AUTH_MODE=disabled", "without RAY_AUTH_MODE=token"),
        ("RAY_AUTH_MODE=token RAY_USAGE", "RAY_USAGE", "without RAY_AUTH_MODE=token"),
        ("--dashboard-host=127.0.0.1", "--dashboard-host=0.0.0.0", "listen on 0.0.0.0"),
        ("~/.ray/auth_token:", "~/.ray/other_name:", "no file_mounts entry"),
    ],
)
def test_the_check_catches_an_exposed_cluster(old: str, new: str, problem: str) -> None:
    """The check itself fails on the ways a config can expose the cluster."""
    text = CONFIG.read_text()
    assert old in text, f"cluster.yaml no longer contains {old!r}: update this test"
    problems = check_cluster_config(yaml.safe_load(text.replace(old, new, 1)))
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize(
    "path", ["cluster/README.md", "jobs/school_month_revenue.py"], ids=lambda p: p
)
def test_documented_job_submissions_use_token_auth(path: str) -> None:
    text = (ROOT / path).read_text()
    submits = re.findall(r"ray job submit.*?-- python", text, flags=re.S)
    assert submits, f"{path} shows no `ray job submit`"
    for submit in submits:
        assert '"RAY_AUTH_MODE": "token"' in submit, submit
        assert "http://127.0.0.1:8265" in submit, "the job API through the SSH tunnel"
    assert '"RAY_AUTH_MODE": "disabled"' not in text
