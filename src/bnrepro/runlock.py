"""A killed run's stale lock, cleared when nothing holds it; a second run at once, refused with a clear message.

Snakemake locks the files a run will write (`.snakemake/locks/`) and removes the locks when it ends. A run that is
killed (SIGKILL, a power cut, the OOM killer) cannot remove them, and every later run stops with "Directory cannot
be locked" until someone runs `snakemake --unlock`. The workflow calls `recover` when the Snakefile is parsed, in
the main Snakemake process only (a cluster job's own Snakemake parses it too, while the main run holds the locks):

- locks present, no other Snakemake process working in this checkout: the locks are stale; they are removed and
  the run goes on (`--rerun-incomplete` in the profiles then reruns the interrupted claims);
- locks present and another Snakemake process works in this checkout: `Busy`, naming it;
- no locks: nothing to do.

Processes are found through /proc (Linux); where it is missing, nothing is removed and Snakemake's own message
stands.
"""

from __future__ import annotations

import os
from pathlib import Path


class Busy(RuntimeError):
    pass


def _snakemake_runs(workdir: Path) -> list[tuple[int, str]]:
    """(pid, command line) of the other Snakemake processes whose working directory is `workdir`."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    ours = os.getpid()
    runs = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == ours:
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:  # gone, or another user's
            continue
        words = [a.decode(errors="replace") for a in argv if a]
        if cwd == workdir and any(Path(w).name == "snakemake" or w == "snakemake" for w in words):
            runs.append((int(entry.name), " ".join(words)))
    return runs


def recover(workdir: str | Path = ".") -> str | None:
    """Clear a stale lock (and say so), raise `Busy` if another run holds it, or return None when there is none."""
    workdir = Path(workdir).resolve()
    locks = workdir / ".snakemake" / "locks"
    held = sorted(p for p in locks.glob("*") if p.is_file()) if locks.is_dir() else []
    if not held or not Path("/proc").is_dir():
        return None
    others = _snakemake_runs(workdir)
    if others:
        pid, command = others[0]
        raise Busy(
            f"another Snakemake run is working in this checkout (pid {pid}: {command}); a second run at once is "
            "refused: wait for it to finish, or stop it"
        )
    for path in held:
        path.unlink(missing_ok=True)
    return (
        f"removed the stale lock of an interrupted run ({len(held)} lock file(s) in .snakemake/locks, and no Snakemake "
        "process in this checkout holds them); its unfinished claims are rerun"
    )
