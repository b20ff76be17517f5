"""What common programs do with their arguments, for :mod:`agentcore.control.shell_parse`: which run
another command (wrappers and their options), which take inline code, and what a few text producers
print (to read a script piped into a shell)."""

from __future__ import annotations

import base64
import binascii
import re

from .shell_words import ansi_c

SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "yash", "posh", "fish"})
INLINE_CODE = {  # interpreter -> options whose argument is a program
    "python": ("-c",),
    "perl": ("-e", "-E"),
    "ruby": ("-e",),
    "node": ("-e", "--eval", "-p", "--print"),
    "nodejs": ("-e", "--eval", "-p", "--print"),
    "deno": ("eval",),
    "php": ("-r",),
    "lua": ("-e",),
    "tclsh": (),
    "osascript": ("-e",),
}
AWKS = frozenset({"awk", "gawk", "mawk", "nawk", "busybox-awk"})


# --------------------------------------------------------------------------- wrappers

WRAPPER_OPTIONS: dict[str, tuple[frozenset[str], int]] = {
    # program -> (options that take an argument, operands to skip before the command)
    "sudo": (
        frozenset(
            {"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-T", "-U", "--user", "--group", "--host"}
            | {"--prompt", "--close-from", "--chdir", "--role", "--type", "--command-timeout", "--other-user"}
        ),
        0,
    ),
    "doas": (frozenset({"-u", "-C"}), 0),
    "nice": (frozenset({"-n"}), 0),
    "ionice": (frozenset({"-c", "-n", "-p", "-P", "-u"}), 0),
    "nohup": (frozenset(), 0),
    "timeout": (frozenset({"-s", "-k"}), 1),
    "stdbuf": (frozenset({"-i", "-o", "-e"}), 0),
    "setsid": (frozenset(), 0),
    "time": (frozenset({"-f", "-o"}), 0),
    "exec": (frozenset({"-a"}), 0),
    "builtin": (frozenset(), 0),
    "chroot": (frozenset(), 1),
    "taskset": (frozenset(), 1),
    "chrt": (frozenset({"-T", "-P", "-D"}), 1),
    "unbuffer": (frozenset(), 0),
    "busybox": (frozenset(), 0),
    "runuser": (frozenset({"-u", "-g", "-G", "-s", "-w"}), 0),
    "strace": (frozenset({"-e", "-o", "-p", "-s", "-u", "-E", "-a", "-P", "-O", "-S", "-X", "-b"}), 0),
    "ltrace": (frozenset({"-e", "-o", "-p", "-s", "-u", "-a", "-n", "-A", "-D", "-l", "-w"}), 0),
    "fakeroot": (frozenset({"-l", "-s", "-i", "-b"}), 0),
    "caffeinate": (frozenset({"-t", "-w"}), 0),
}
XARGS_OPTIONS = frozenset({"-a", "-d", "-E", "-I", "-L", "-n", "-P", "-s"})


def skip_options(args: list[str | None], takes_arg: frozenset[str]) -> list[str | None]:
    """``args`` after the leading options (``--`` ends them; ``-u root`` skips the argument)."""
    i = 0
    while i < len(args):
        word = args[i]
        if word is None or word == "-" or not word.startswith("-"):
            break
        i += 1
        if word == "--":
            break
        if word in takes_arg:
            i += 1
    return args[i:]


def split_static(text: str) -> list[str | None]:
    return list(text.split())


def static_output(program: str, args: list[str | None], text_in: str | None) -> str | None:
    """What a few text producers print, when their input is known: enough to read a script piped into
    a shell (``echo …``, ``printf …``, ``cat`` of a here-document, ``base64 -d``, ``xxd -r -p``, ``rev``)."""
    if any(a is None for a in args):
        return None
    words = [a for a in args if a is not None]
    if program == "echo":
        flags: set[str] = set()
        while words and re.fullmatch(r"-[neE]+", words[0]):
            flags.update(words.pop(0)[1:])
        out = " ".join(words)
        if "e" in flags:
            out = ansi_c(out)
        return out if "n" in flags else out + "\n"
    if program == "printf" and words:
        fmt, rest = words[0], words[1:]
        if "%" not in fmt.replace("%%", ""):
            return ansi_c(fmt).replace("%%", "%")
        if fmt.replace("%%", "").count("%") == fmt.count("%s") and rest:
            return ansi_c(fmt).replace("%s", "{}").format(*rest) if fmt.count("%s") == len(rest) else None
        return None
    if program == "cat" and not words:
        return text_in
    if text_in is None:
        return None
    if program == "base64" and any(w in ("-d", "--decode", "-D", "-di", "-id") for w in words):
        try:
            return base64.b64decode("".join(text_in.split()), validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
    if program == "xxd" and "-r" in words and "-p" in words:
        try:
            return bytes.fromhex("".join(text_in.split())).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
    if program == "rev" and not words:
        return "".join(line[::-1] + "\n" for line in text_in.splitlines())
    return None
