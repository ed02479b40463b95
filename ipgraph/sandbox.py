"""The OS-level limits of a query worker (Linux): no network, bounded memory, dies with its parent.

Each is enforced by the kernel, not by looking at queries:

- no network: the worker moves into a network namespace of its own (`unshare(CLONE_NEWNET)`,
  which holds only a loopback that is down), so no SERVICE clause, whatever its spelling, can
  reach any address, the server's own loopback included. Where the kernel refuses (no
  privilege, a container without namespaces) a seccomp filter makes `socket(AF_INET*)` fail
  instead; where both are refused the caller is told, and logs it.
- memory: RLIMIT_AS caps the worker's address space; an allocation past it fails, the worker
  ends and the server replaces it.
- parent death: PR_SET_PDEATHSIG sends SIGKILL when the server goes (checked once after the
  call, for a parent that went before it).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform
import resource
import signal
import struct

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _errno_text() -> str:
    return os.strerror(ctypes.get_errno())


def die_with_parent(parent_pid: int) -> None:
    """SIGKILL this process when its parent goes (and end now if it has gone already).

    PR_SET_PDEATHSIG follows the parent *thread*: the server starts its workers from one
    long-lived thread. (No watchdog thread here: a second Python thread in the worker could run
    the garbage collector on the main thread's pyoxigraph objects, which pyoxigraph forbids.)
    """
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent went before the call: nobody will signal us
        os._exit(1)


def limit_memory(max_bytes: int | None) -> str:
    """Cap the address space at max_bytes (None or 0: no cap). Returns what was done, for the log."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a worker that aborts must not dump gigabytes
    if not max_bytes:
        return "memory: no cap"
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = max_bytes if hard == resource.RLIM_INFINITY else min(max_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    return f"memory: address space capped at {cap // (1024 * 1024)} MiB"


def _unshare_net() -> str | None:
    """Enter a new network namespace; None when done, else why not."""
    if _libc.unshare(CLONE_NEWNET) == 0:
        return None
    first = _errno_text()
    # Without CAP_SYS_ADMIN, an unprivileged user namespace may still allow it.
    uid, gid = os.getuid(), os.getgid()
    if _libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
        try:
            with open("/proc/self/setgroups", "w") as fh:
                fh.write("deny")
            with open("/proc/self/uid_map", "w") as fh:
                fh.write(f"{uid} {uid} 1")
            with open("/proc/self/gid_map", "w") as fh:
                fh.write(f"{gid} {gid} 1")
        except OSError:
            pass  # the namespace is in force even when the id maps could not be written
        return None
    return f"{first} (and as an unprivileged user namespace: {_errno_text()})"


# seccomp: which syscall number is socket(2), and the audit architecture, per machine.
_SECCOMP_ARCH = {
    "x86_64": (0xC000003E, 41),
    "aarch64": (0xC00000B7, 198),
}


def _seccomp_no_inet() -> str | None:
    """A seccomp filter: socket(AF_INET or AF_INET6, …) fails with EACCES. None when installed."""
    machine = platform.machine()
    if machine not in _SECCOMP_ARCH:
        return f"no seccomp filter for {machine}"
    arch, nr_socket = _SECCOMP_ARCH[machine]
    ld_w_abs, jeq_k, jge_k, ret_k = 0x20, 0x15, 0x35, 0x06
    allow, kill_arch, deny = 0x7FFF0000, 0x00000000, 0x00050000 | 13  # ERRNO(EACCES)
    # struct seccomp_data: nr at 0, arch at 4, args[0] (low word) at 16.
    prog = [
        (ld_w_abs, 0, 0, 4),
        (jeq_k, 1, 0, arch),
        (ret_k, 0, 0, kill_arch),
        (ld_w_abs, 0, 0, 0),
        (jge_k, 4, 0, 0x40000000),  # the x32 ABI's numbers: refused outright
        (jeq_k, 0, 4, nr_socket),
        (ld_w_abs, 0, 0, 16),
        (jeq_k, 1, 0, 2),  # AF_INET
        (jeq_k, 0, 1, 10),  # AF_INET6
        (ret_k, 0, 0, deny),
        (ret_k, 0, 0, allow),
    ]
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw)

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = SockFprog(len(prog), ctypes.cast(buf, ctypes.c_void_p))
    if _libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return f"no_new_privs refused: {_errno_text()}"
    if _libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        return f"seccomp refused: {_errno_text()}"
    return None


def cut_network() -> tuple[bool, str]:
    """Take the network away from this process. (True, what was done) or (False, why it could not be)."""
    if not hasattr(os, "getppid") or platform.system() != "Linux":
        return False, f"no network sandbox on {platform.system()}"
    why_ns = _unshare_net()
    why_sc = _seccomp_no_inet()  # both, where both work: two independent layers
    done = []
    if why_ns is None:
        done.append("own network namespace")
    if why_sc is None:
        done.append("seccomp: no inet sockets")
    if done:
        return True, "network: " + " + ".join(done)
    return False, f"network sandbox refused by the OS (namespace: {why_ns}; seccomp: {why_sc})"
