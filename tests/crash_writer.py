"""The writer of ``test_crash_safety.py``: writes through the service layer in a loop until
it is killed, and prints one line per committed call, flushed, *after* the call returned
(so every line is a write the database acknowledged).

    python tests/crash_writer.py DATABASE PROJECT_ID FIRST_NUMBER   # one writer
    python tests/crash_writer.py --fork-server                      # many, quickly

A writer's lines: ``ready``; ``task ID``; ``txn ID``; ``request ID``, ``approved ID``,
``executed ID``; ``decision ITEM_ID``; ``chat REPLY_ID USER_MESSAGE_ID``; ``job ID``.

Starting Python and importing the service layer takes seconds on a loaded machine, so
the test starts this script once as a fork server: it imports everything, opens no
database, and for each ``run DATABASE PROJECT_ID FIRST OUTFILE`` line on its stdin forks
a writer whose lines go to OUTFILE, answering ``pid PID``. The test SIGKILLs that pid;
the server reaps it.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from crewos_tui.backend.local.context import Settings
from crewos_tui.backend.local.services import Services
from crewos_tui.backend.schemas import TaskCreate, TokenRequestCreate, TokenTransfer
from crewos_tui.backend.schemas.agent_jobs import AgentJobCreate


def out(*words: str) -> None:
    sys.stdout.write(" ".join(words) + "\n")
    sys.stdout.flush()


async def write_until_killed(path: str, project_id: str, first: int) -> None:
    svc = await Services.open(path, settings=Settings(scrypt_n=2**4, stream_chunk_delay=0))
    maya = await svc.auth.principal_for("maya")
    priya = await svc.auth.principal_for("priya")
    await svc.start_background(poll_seconds=0.05)  # jobs run (and die) in this process too
    out("ready")
    i = first
    while True:
        op = i % 6
        if op == 0:
            task = await svc.tasks.create(maya, TaskCreate(project_id=project_id, title=f"crash task {i}"))
            out("task", task.id)
        elif op == 1:
            txn = await svc.tokenization.transfer(maya, project_id, TokenTransfer(
                from_wallet="treasury", to_wallet="priya", amount=1 + i % 7, memo=f"crash {i}"))
            out("txn", txn.id)
        elif op == 2:
            req = await svc.tokenization.create_request(priya, project_id, TokenRequestCreate(
                kind="transfer", amount=2, from_wallet="treasury", to_wallet="priya", memo=f"crash request {i}"))
            out("request", req.id)
            await svc.tokenization.approve_request(maya, project_id, req.id, "ok")
            out("approved", req.id)
            await svc.tokenization.execute_request(maya, project_id, req.id)
            out("executed", req.id)
        elif op == 3:
            page = await svc.review.list(maya, state="pending", order="oldest", limit=1)
            if page.items:
                await svc.review.approve(maya, page.items[0].id, "fine")
                out("decision", page.items[0].id)
        elif op == 4:
            reply = await svc.chat.send(maya, f"what is open in crash {i}?", project_id=project_id)
            out("chat", reply.message_id, reply.user_message_id)
        else:
            job = await svc.agent_jobs.create(maya, AgentJobCreate(kind="project_update", project_id=project_id))
            out("job", job.id)
        i += 1


def fork_server() -> None:
    from crewos_tui.backend.local.jobs import supported_kinds  # after Services: jobs.py imports the services

    supported_kinds()  # loads the job kinds once, before forking
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed writers are reaped by the kernel
    out("ready")
    for line in sys.stdin:
        _run, path, project_id, first, outfile = line.split()
        pid = os.fork()
        if pid == 0:  # the writer
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            fd = os.open(outfile, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            os.dup2(fd, 1)
            os.close(fd)
            sys.stdout = os.fdopen(1, "w", buffering=1)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            try:
                asyncio.run(write_until_killed(path, project_id, int(first)))
            finally:
                os._exit(1)
        out("pid", str(pid))


if __name__ == "__main__":
    if sys.argv[1:] == ["--fork-server"]:
        fork_server()
    else:
        asyncio.run(write_until_killed(sys.argv[1], sys.argv[2], int(sys.argv[3])))
