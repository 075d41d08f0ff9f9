"""Keeping a few child processes up: restart with backoff, stop in order, die with the parent.

`launcher.py` decides what runs (the dev server, the worker, the API); this module only knows
processes. It runs in the launcher's main thread and polls: no threads, so `preexec_fn` (which
is unsafe when other threads may hold locks at fork time) stays safe, and the parent-death
signal, which Linux ties to the thread that forked the child, fires when the launcher dies.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

log = logging.getLogger("launcher")

STOP_TIMEOUT_S = 15.0
READY_CHECK_INTERVAL_S = 0.5
_PR_SET_PDEATHSIG = 1
# Elsewhere the children outlive a launcher killed without a chance to stop them.
FOLLOWS_PARENT = sys.platform.startswith("linux")


class StartupFailed(RuntimeError):
    """A child died before the system was up: restarting would hide a configuration error."""


def die_with_parent() -> Callable[[], None] | None:
    """A `preexec_fn` asking Linux to SIGKILL the child when the launcher dies, however it dies
    (SIGKILL included). SIGKILL rather than a polite signal: a child that lingered would hold
    its port and block the next start, and every child's state is crash-safe (Temporal's
    history and the SQLite files are journaled). None where the call does not exist."""
    if not FOLLOWS_PARENT:
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        # The launcher may have died between fork and prctl: then nobody would signal us.
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"


@dataclass
class Backoff:
    """Exponential restart delays, back to the first once a child has stayed up a while."""

    initial_s: float = 1.0
    cap_s: float = 30.0
    stable_after_s: float = 60.0
    _next_s: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        self._next_s = self.initial_s

    def after_exit(self, uptime_s: float) -> float:
        if uptime_s >= self.stable_after_s:
            self._next_s = self.initial_s
        delay = self._next_s
        self._next_s = min(self._next_s * 2, self.cap_s)
        return delay

    def reset(self) -> None:
        self._next_s = self.initial_s


@dataclass
class Child:
    """One supervised process. `ready` says when it serves (checked until true after each
    start); `requires` are children that must be ready before this one (re)starts."""

    name: str
    command: list[str]
    cwd: Path
    log_file: Path | None = None
    ready: Callable[[], bool] | None = None
    requires: Sequence[Child] = ()
    backoff: Backoff = field(default_factory=Backoff)
    proc: subprocess.Popen[bytes] | None = field(default=None, init=False)
    is_ready: bool = field(default=False, init=False)
    started_at: float = field(default=0.0, init=False)
    restart_at: float = field(default=0.0, init=False)
    _checked_at: float = field(default=0.0, init=False)
    _out: IO[bytes] | None = field(default=None, init=False)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def start(self) -> None:
        if self.log_file is not None and self._out is None:
            self._out = self.log_file.open("ab")
        # A session of its own: the terminal's Ctrl-C reaches only the launcher, which then
        # stops the children in order.
        self.proc = subprocess.Popen(
            self.command,
            cwd=self.cwd,
            start_new_session=True,
            stdout=self._out,
            stderr=self._out,
            preexec_fn=die_with_parent(),
        )
        self.started_at = time.monotonic()
        self.is_ready = self.ready is None
        self._checked_at = 0.0

    def check_ready(self, now: float) -> bool:
        due = now - self._checked_at >= READY_CHECK_INTERVAL_S
        if not self.is_ready and self.ready is not None and self.running and due:
            self._checked_at = now
            self.is_ready = self.ready()
        return self.is_ready

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            log.info("stopping %s", self.name)
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0f s; killing it", self.name, STOP_TIMEOUT_S)
                self.proc.kill()
                self.proc.wait()
        if self._out is not None:
            self._out.close()
            self._out = None


class Supervisor:
    """Children in start order; `stop_all` stops them in the reverse order.

    Before the system is first up, a child that dies is a `StartupFailed`; afterwards it is
    restarted after its backoff delay, once the children it requires are ready again."""

    def __init__(self, children: Sequence[Child]) -> None:
        self.children = list(children)
        self.up = False

    def all_ready(self) -> bool:
        return all(c.is_ready for c in self.children)

    def step(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.proc is not None and child.proc.poll() is not None:
                self._on_exit(child, child.proc.returncode, now)
            if child.running:
                was_ready = child.is_ready
                if child.check_ready(now) and not was_ready and self.up:
                    log.info("%s is back (pid %d)", child.name, child.pid)
                    self._release_dependents(child, now)
            elif now >= child.restart_at and all(r.is_ready for r in child.requires):
                if self.up:
                    log.info("restarting %s", child.name)
                child.start()

    def _on_exit(self, child: Child, code: int, now: float) -> None:
        uptime = now - child.started_at
        child.proc = None
        child.is_ready = False
        if not self.up:
            where = f"; its log: {child.log_file}" if child.log_file else ""
            raise StartupFailed(f"{child.name} {describe_exit(code)} while starting{where}")
        delay = child.backoff.after_exit(uptime)
        child.restart_at = now + delay
        log.warning(
            "%s %s after %.0f s up; restarting in %.0f s",
            child.name,
            describe_exit(code),
            uptime,
            delay,
        )

    def _release_dependents(self, ready: Child, now: float) -> None:
        # A dependent that failed while this one was down was not at fault: no waiting more.
        for child in self.children:
            if ready in child.requires and child.proc is None:
                child.backoff.reset()
                child.restart_at = now

    def pids(self) -> dict[str, int]:
        return {c.name: c.pid for c in self.children if c.running and c.pid is not None}

    def stop_all(self) -> None:
        for child in reversed(self.children):
            child.stop()
