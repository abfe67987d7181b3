"""`invoke dev`: all of Parley on this machine — moto, the gateway, a model and the web app."""

from __future__ import annotations

import os
from pathlib import Path

from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

STATE_DIR = Path(__file__).resolve().parents[1] / ".local" / "state"
"""Where `invoke dev` keeps local data between runs (`--fresh` forgets it)."""


@task(
    help={
        "model": "local (default), scripted, openai (default when OPENAI_API_KEY is set), bedrock",
        "provider": "alias of --model for openai|bedrock",
        "free_ports": "pick free ports instead of the fixed 8080–8087",
        "ready_file": "also write the ready JSON here",
        "fresh": "forget the local data kept from the last run (users, chats) and start clean",
        "mfa": "two-step verification: OPTIONAL (default: each person may turn it on), ON, OFF",
        "signup_domain": "only addresses at these e-mail domains may sign up (comma-separated)",
        "signup_invites": "addresses a room owner invited may sign up",
    }
)
def dev(
    c: Context,
    model: str = "",
    provider: str = "",
    free_ports: bool = False,
    ready_file: str = "",
    fresh: bool = False,
    mfa: str = "OPTIONAL",
    signup_domain: str = "",
    signup_invites: bool = False,
) -> None:
    """Run the whole stack locally (no AWS, no API key) until Ctrl-C; local data is kept."""
    from tasks.local import model as local_model
    from tasks.local.stack import main

    chosen = provider or model or ("openai" if os.environ.get("OPENAI_API_KEY") else "local")
    if chosen == "local" and not local_model.installed():
        print("The local model is built once (llama.cpp from source, a few minutes on 2 cores).")
        try:
            seconds = local_model.install()
        except local_model.ModelError as exc:
            raise Exit(f"error: {exc}", code=1) from None
        print(f"Local model ready in {seconds:.0f} s.")
    argv = [
        "--model",
        chosen,
        "--warm",
        "--origin",
        "http://localhost:5173",
        "--origin",
        "http://127.0.0.1:5173",
    ]
    if not free_ports:
        argv.append("--dev-ports")
    argv += ["--state-dir", str(STATE_DIR)]
    if fresh:
        argv.append("--fresh")
    argv += ["--mfa", mfa.upper()]
    for domain in filter(None, (d.strip() for d in signup_domain.split(","))):
        argv += ["--signup-domain", domain]
    if signup_invites:
        argv.append("--signup-invites")
    if ready_file:
        argv += ["--ready-file", ready_file]
    code = main(argv)
    if code:
        raise Exit(code=code)
