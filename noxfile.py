"""Developer sessions: `nox -s tests`, `nox -s lint`, `nox -s bench`.

Sessions reuse the active environment (`--no-venv` style) when run with `nox --no-venv`; by default each
creates its own virtual environment and installs the project with its `dev` extra."""

from __future__ import annotations

import pathlib

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True

BENCHMARKS = sorted(
    path.stem for path in pathlib.Path("bench/benchmarks").glob("*.py") if not path.name.startswith("_")
)


@nox.session
def tests(session: nox.Session) -> None:
    """The test suite (the command CI runs)."""
    session.install("-e", ".[dev]")
    session.run("pytest", "-n", "2", "-q", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint + format check."""
    session.install("ruff>=0.5")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def bench(session: nox.Session) -> None:
    """Every benchmark under bench/benchmarks/: each prints its figures."""
    session.install("-e", ".[dev]")
    for name in session.posargs or BENCHMARKS:
        session.run("python", "-m", f"bench.benchmarks.{name}")
