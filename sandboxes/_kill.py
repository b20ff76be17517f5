"""What a timeout, an interrupt or a fork bomb kills, and how a shell knows what it may spare.

Bash functions made of builtins only, so that they also run where no new process can start (a fork
bomb holds the process limit) — in a shell that is already running, or as ``bash -c`` when one can start:

* ``__ac_kill_groups SHELL_PID MODE [KEEP...]`` (modes in ``Sandbox._kill_process_groups``): ``fg`` what
  the running command started below the shell; ``new`` the same plus the process trees the command
  re-parented to pid 1 (``(cmd &)``, ``setsid cmd &``: double forks); ``all`` the shell and everything
  below it; ``every`` every process the sandbox user may signal but pid 1 and the caller.
* ``__ac_kill_tree PID``: stop a process and its descendants, then kill them (remote backends).

A double fork leaves the shell's tree for good: the only trace is that its process now hangs below pid 1.
So the shell records pid 1's children after every command (``ORPHANS_FILE``: by the trailer, or
host-side by the backend, see :data:`OrphanSource`), and mode ``new`` kills what appeared there since.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

__all__ = [
    "KILL_FUNCTIONS",
    "KILL_GROUPS_SCRIPT",
    "KILL_TREE_FUNCTIONS",
    "ORPHANS_FILE",
    "READ_ORPHANS",
    "OrphanSource",
    "near_process_limit",
    "parse_pids",
]

OrphanSource = Callable[[], "list[int] | None"] | Literal["in-band"] | None
"""Where the children of the sandbox's pid 1 come from before each command: a host-side read (a
callable; None when it cannot tell), the shell itself (``"in-band"``: the trailer reads
``/proc/1/task/1/children``), or nowhere (None: a timeout does not look beyond the shell's tree)."""
ORPHANS_FILE = "/proc/1/task/1/children"

READ_ORPHANS = f"__ac_o=-; {{ read -r __ac_o || :; }} <{ORPHANS_FILE} || :; "
"""Bash: the children of pid 1 into ``$__ac_o`` (``-`` when unreadable). Safe under ``set -eu``."""


KILL_FUNCTIONS = r"""
__ac_kill_groups() {
# usage: __ac_kill_groups SHELL_PID fg|new|all|every [KEEP...]
# Builtins only: no new process is needed (it also works when a fork bomb holds the process limit).
# fg: the process groups below the shell except those of the kept jobs (KEEP: pgids). new: fg, and also
# every process tree that was re-parented to pid 1 (double forks, setsid) and is not in KEEP (the pid-1
# children recorded before the command) nor in pid 1's own group (the supervisor's spawns). all: the
# shell and everything below it. every: every process this user may signal but pid 1 and the caller.
local sp=$1 mode=$2 f p c n g k line spg rpg
shift 2
if [ "$mode" = every ]; then kill -9 -1 2>/dev/null; return 0; fi
local -A keep=() ppid=() pgrp=() anc=()
local -a targets=()
for k in "$@"; do keep[$k]=1; done
for f in /proc/[0-9]*/stat; do
  { read -r line < "$f"; } 2>/dev/null || continue
  p=${f#/proc/}; p=${p%/stat}
  set -- ${line##*) }
  ppid[$p]=$2; pgrp[$p]=$3
done
spg=${pgrp[$sp]}
[ -n "$spg" ] || return 0
rpg=${pgrp[1]:-1}
c=$sp; n=0
while [ "$c" -gt 1 ] && [ $n -lt 64 ]; do anc[$c]=1; c=${ppid[$c]:-0}; n=$((n+1)); done
for p in "${!ppid[@]}"; do
  [ -n "${anc[$p]}" ] && continue
  c=$p; n=0
  while [ "$c" -gt 1 ] && [ "${ppid[$c]:-0}" != "$sp" ] && [ "${ppid[$c]:-0}" != 1 ] && [ $n -lt 64 ]; do
    c=${ppid[$c]:-0}; n=$((n+1))
  done
  if [ "${ppid[$c]:-0}" = "$sp" ]; then
    [ "$mode" = all ] || [ -z "${keep[${pgrp[$c]}]}" ] || continue
  elif [ "$mode" = new ] && [ "${ppid[$c]:-0}" = 1 ] && [ -z "${anc[$c]}" ]; then
    [ -z "${keep[$c]}" ] && [ "${pgrp[$c]}" != "$rpg" ] || continue
  else
    continue
  fi
  targets+=("$p")
done
# A process group dies at once (one kill). Processes left in the shell's own group (no job control:
# a supervisor's execs) die one by one, so stop them all first: otherwise `sh -c "sleep 300; echo
# never"` may see its sleep die before its own turn comes, and print "never". (Jobs are not stopped:
# a shell with job control would report a stopped job and move on.)
for p in "${targets[@]}"; do
  if [ "${pgrp[$p]}" = "$spg" ]; then kill -STOP "$p" 2>/dev/null; fi
done
for p in "${targets[@]}"; do
  g=${pgrp[$p]}
  if [ "$g" != "$spg" ] && [ "$g" != "$rpg" ] && [ "$g" -gt 1 ]; then kill -9 -- "-$g" 2>/dev/null; fi
  kill -9 "$p" 2>/dev/null
done
if [ "$mode" = all ]; then kill -9 "$sp" 2>/dev/null; fi
return 0
}
"""
"""Defines ``__ac_kill_groups`` (bash, builtins only): see ``Sandbox._kill_process_groups``."""

KILL_GROUPS_SCRIPT = KILL_FUNCTIONS + '__ac_kill_groups "$@"\n'
"""``bash -c "$KILL_GROUPS_SCRIPT" kill-groups SHELL_PID fg|new|all|every [KEEP...]``."""

KILL_TREE_FUNCTIONS = (
    KILL_FUNCTIONS
    + r"""
__ac_kill_tree() {
# usage: __ac_kill_tree PID. First SIGSTOP the process and all its descendants, so that none of them can
# run another step (a shell whose child was just killed would otherwise go on: `sleep 300; echo never`
# prints "never", and a session shell would rewrite its state file while its successor reads it). Then
# the kill, by process group. Builtins only, like __ac_kill_groups.
local root=$1 f p c line
local -A kids=()
for f in /proc/[0-9]*/stat; do
  { read -r line < "$f"; } 2>/dev/null || continue
  p=${f#/proc/}; p=${p%/stat}
  set -- ${line##*) }
  kids[$2]+=" $p"
done
local -a todo=("$root")
while [ ${#todo[@]} -gt 0 ]; do
  p=${todo[0]}; todo=("${todo[@]:1}")
  kill -STOP "$p" 2>/dev/null
  for c in ${kids[$p]}; do todo+=("$c"); done
done
__ac_kill_groups "$root" all
}
"""
)
"""Defines ``__ac_kill_groups`` and ``__ac_kill_tree`` (bash, builtins only)."""


def parse_pids(text: bytes) -> list[int] | None:
    """Pids in a ``/proc/<pid>/task/<tid>/children`` line; None for ``-`` (it could not be read)."""
    words = text.split()
    if words == [b"-"]:
        return None
    return [int(w) for w in words if w.isdigit()]


def near_process_limit(current: int, limit: int) -> bool:
    """Whether ``current`` processes count as being at ``limit``: a fork bomb's processes come and go
    (each gives up a failing fork after 15 s), so a few below it count too."""
    return current >= limit - max(2, min(8, limit // 8))
