"""The local sandbox's pid 1: a small bash supervisor that spawns shells and execs on request.

It talks to the host over its stdin/stdout (one request line in, one notice line out: ``p`` with a
wrapper's pid, ``d``/``x``/``k`` when a shell, exec or kill request ended) and over FIFOs in the
read-only control directory ``/run/agentcore``.

Why bash as pid 1 (``bwrap --as-pid-1``), issue 12 item 2: the agent's processes run as the same uid
as the supervisor, so a supervisor that is an ordinary process dies with ``kill -9 -1`` and takes the
sandbox with it. The init of a pid namespace cannot be killed or stopped from inside: the kernel
delivers it only the signals it has a handler for, and the supervisor catches (and ignores) every
catchable one. Its environment is only the sandbox's (``--clearenv``), so ``/proc/1/environ`` shows
nothing of the host (item 10).
"""

from __future__ import annotations

__all__ = ["COMMAND", "SUPERVISOR"]

SUPERVISOR = r"""
exec 2>/dev/null
C=/run/agentcore
NL='
'
P=; read -r P < "$C/nproc"
S='1 2 3 4 5 6 7 8 10 11 12 13 14 15 16 18 20 21 22 23 24 25 26 27 28 29 30 31'
trap : $S
declare -A J
R() {
  local p s v f q
  for p in "${!J[@]}"; do
    kill -0 "$p" 2>/dev/null && continue
    wait "$p"; s=$?
    v=${J[$p]}; unset "J[$p]"
    if [[ $v == +* ]]; then printf '%s 137\n' "${v#+}"; continue; fi
    ((s > 128)) || continue
    if [[ $v == "d "* ]]; then
      q=
      for f in /proc/[0-9]*/fd/0; do [ "$f" -ef "$C/${v#d }.in" ] && { q=${f#/proc/}; q=${q%%/*}; break; }; done
      if [ -n "$q" ]; then J[$q]=+$v; continue; fi
    fi
    printf '%s %d\n' "$v" "$s"
  done
}
printf 'ready %s\n' "$$"
b=
while :; do
  if ((${#J[@]})); then IFS= read -r -t 1 req; else IFS= read -r req; fi
  r=$?
  if ((r > 128)); then b+=$req; R; continue; fi
  ((r == 0)) || break
  req=$b$req b=
  eval "set -- $req" || continue
  op=$1 id=$2; shift 2
  case $op in
  sh)
    cwd=$1; shift
    ( trap - $S; ( cd -- "$cwd" || exit 126; ulimit -u "${P:-unlimited}" 2>/dev/null; for kv do export "$kv"; done; exec bash --noprofile --norc ) \
        <"$C/$id.in" >"$C/$id.out" 2>&1; printf 'd %s %d\n' "$id" "$?" ) &
    J[$!]="d $id"; printf 'p %s %d\n' "$id" "$!" ;;
  ex)
    cwd=$1; shift
    in=/dev/null; [ -f "$C/$id.stdin" ] && in=$C/$id.stdin
    ( trap - $S; ( cd -- "$cwd" || exit 126; ulimit -u "${P:-unlimited}" 2>/dev/null; while [ "$1" != -- ]; do export "$1"; shift; done; shift; exec "$@" ) \
        <"$in" >"$C/$id.out" 2>"$C/$id.err"; printf 'x %s %d\n' "$id" "$?" ) &
    J[$!]="x $id"; printf 'p %s %d\n' "$id" "$!" ;;
  kg)
    ( trap - $S; bash "$C/kill-groups.sh" "$@" </dev/null >/dev/null 2>&1; printf 'k %s 0\n' "$id" ) &
    J[$!]="k $id" ;;
  esac
  R
done
"""
"""The sandbox's pid 1 (``bwrap --as-pid-1``, bash): spawns shells and execs on request. Each runs under
a wrapper subshell that reports its exit (``d``/``x``/``k`` notices). Being its pid namespace's init,
the supervisor cannot be killed or stopped from inside: the kernel delivers it only signals it has a
handler for, and it catches (and ignores) every catchable one. Shells and execs run with
``RLIMIT_NPROC`` = ``pids`` (from ``nproc`` in the control directory) while the cgroup allows a few more
(:data:`~.limits.PIDS_RESERVE`): a fork bomb never takes the last processes the supervisor needs (a
fork that fails for 15 s would end it, and the sandbox with it). ``kill -9 -1`` still kills the
wrappers: while any is tracked (``J``), the supervisor wakes every second and reports a wrapper that
died by a signal as ended with that signal's status, so the host never waits for a notice that cannot
come; a shell that outlived its wrapper (the builtin ``kill -9 -1`` spares its caller) is found by its
stdin FIFO and watched instead (``+`` entries), so it is not reported ended while it still runs. As init
it also reaps orphans (bash reaps every child on SIGCHLD)."""
COMMAND = ("/bin/bash", "--noprofile", "--norc", "-c", SUPERVISOR)
"""What bwrap runs as the sandbox's pid 1."""
