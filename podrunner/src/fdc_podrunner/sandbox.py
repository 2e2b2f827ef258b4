"""The bubblewrap command line that gives a process a container's file system, user and PID 1.

Pure: a `Sandbox` description in, an argv out. The root is a fresh tmpfs made read-only at the
end; only system folders, the image's own paths and the pod's mounts are visible in it. The
process's user comes from `setpriv` (a real UID/GID switch with no passwd entry, every capability
dropped, no new privileges), as a container runtime does after setting up the mounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# What the image's base (Debian) shows and our processes need: programs, libraries, /etc.
# /etc itself is a folder of the sandbox's root (so a pod may mount below it, as the relay's Secret
# does), holding this machine's entries; the pod's own hosts, hostname and resolv.conf replace
# this machine's.
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/etc")
POD_ETC = frozenset({"hosts", "hostname", "resolv.conf"})
SETPRIV = "/usr/bin/setpriv"


@dataclass(frozen=True)
class Mount:
    """`kind`: "ro" / "rw" (bind `source` at `target`), "tmpfs" (writable, `mode`),
    "dir" (an empty folder on the read-only root), "symlink" (`source` is the link text)."""

    kind: str
    target: str
    source: str = ""
    mode: int | None = None


@dataclass(frozen=True)
class Sandbox:
    argv: Sequence[str]
    env: Mapping[str, str]
    workdir: str
    mounts: Sequence[Mount]
    uid: int | None = None
    gid: int | None = None
    groups: Sequence[int] = ()
    hostname: str | None = None
    # A network namespace to join (a path such as /proc/PID/ns/net); None: the caller's.
    netns: str | None = None
    info_fd: int | None = None
    read_only_root: bool = True
    extra: Sequence[str] = field(default_factory=tuple)


def system_mounts(exists: Mapping[str, str | None]) -> list[Mount]:
    """System folders as on this machine: a symlink stays a symlink (merged /usr), a folder is
    bound read-only, a missing one is left out. `exists` maps each of SYSTEM_PATHS to the link
    text when it is a symlink, "" when it is a folder, None when absent."""
    mounts = []
    for path, link in exists.items():
        if link is None or (path.startswith("/etc/") and path[5:] in POD_ETC):
            continue
        if link:
            mounts.append(Mount("symlink", path, source=link))
        elif path != "/etc":  # made by bwrap_argv as the parent of its entries
            mounts.append(Mount("ro", path, path))
    return mounts


def describe_system(paths: Sequence[str] = SYSTEM_PATHS) -> dict[str, str | None]:
    """The argument `system_mounts` needs, read from this machine."""
    found: dict[str, str | None] = {}
    for path in paths:
        candidate = Path(path)
        if path == "/etc" and candidate.is_dir() and not candidate.is_symlink():
            found[path] = ""
            found.update(describe_system([str(p) for p in sorted(candidate.iterdir())]))
            continue
        if candidate.is_symlink():
            found[path] = str(candidate.readlink())
        else:
            found[path] = "" if candidate.exists() else None
    return found


def bwrap_argv(sandbox: Sandbox, bwrap: str = "bwrap", nsenter: str = "nsenter") -> list[str]:
    argv: list[str] = []
    if sandbox.netns:
        argv += [nsenter, f"--net={sandbox.netns}", "--"]
    argv += [bwrap, "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
    argv += ["--as-pid-1"]
    if sandbox.hostname:
        argv += ["--hostname", sandbox.hostname]
    if sandbox.info_fd is not None:
        argv += ["--info-fd", str(sandbox.info_fd)]
    argv += ["--tmpfs", "/", "--dev", "/dev", "--proc", "/proc"]
    # A runtime's /dev/shm: a tmpfs every user may write (gunicorn's worker heartbeat files).
    argv += ["--perms", "1777", "--tmpfs", "/dev/shm"]  # noqa: S108
    # bwrap makes missing parents of a mount point 0700: make them as an image has them, 0755.
    for parent in parent_folders([m.target for m in sandbox.mounts] + [sandbox.workdir]):
        argv += ["--perms", "755", "--dir", parent]
    for mount in sandbox.mounts:
        argv += _mount_args(mount)
    if sandbox.read_only_root:
        argv += ["--remount-ro", "/"]
    argv += ["--chdir", sandbox.workdir, "--clearenv"]
    for key, value in sandbox.env.items():
        argv += ["--setenv", key, value]
    argv += list(sandbox.extra)
    argv.append("--")
    if sandbox.uid is not None:
        gid = sandbox.uid if sandbox.gid is None else sandbox.gid
        groups = ",".join(str(g) for g in sandbox.groups)
        argv += [SETPRIV, f"--reuid={sandbox.uid}", f"--regid={gid}"]
        argv += [f"--groups={groups}"] if groups else ["--clear-groups"]
        argv += ["--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        # Changing the UID clears the parent-death signal bwrap set (--die-with-parent): set it
        # again, so the container dies with the bwrap that watches it, even if we are killed.
        argv += ["--pdeathsig=SIGKILL", "--"]
    argv += list(sandbox.argv)
    return argv


def parent_folders(targets: Sequence[str]) -> list[str]:
    """Every folder above the targets (not `/`), parents first; the targets' own folders are
    left to their mounts, except the working directory, made here when nothing mounts it."""
    targets = list(targets)
    mounted = set(targets[:-1])
    folders: set[str] = set()
    for target in targets:
        parts = [p for p in target.split("/") if p]
        folders |= {"/" + "/".join(parts[:i]) for i in range(1, len(parts))}
    workdir = targets[-1] if targets else "/"
    if workdir != "/" and workdir not in mounted:
        folders.add(workdir)
    system = (set(SYSTEM_PATHS) - {"/etc"}) | {"/dev", "/proc"}
    return sorted(
        (
            f
            for f in folders
            if f not in mounted and not any(f == s or f.startswith(s + "/") for s in system)
        ),
        key=lambda f: (f.count("/"), f),
    )


def _mount_args(mount: Mount) -> list[str]:
    args: list[str] = []
    if mount.mode is not None:
        args += ["--perms", format(mount.mode, "o")]
    if mount.kind == "ro":
        return [*args, "--ro-bind", mount.source, mount.target]
    if mount.kind == "rw":
        return [*args, "--bind", mount.source, mount.target]
    if mount.kind == "tmpfs":
        return [*args, "--tmpfs", mount.target]
    if mount.kind == "dir":
        return [*args, "--dir", mount.target]
    if mount.kind == "symlink":
        return ["--symlink", mount.source, mount.target]
    raise ValueError(f"unknown mount kind {mount.kind!r} for {mount.target}")
