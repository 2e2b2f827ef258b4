"""The bubblewrap command line: a read-only fresh root, system folders, mounts, user, env."""

from __future__ import annotations

from fdc_podrunner.sandbox import Mount, Sandbox, bwrap_argv, parent_folders, system_mounts

SYSTEM = {
    "/usr": "",
    "/bin": "usr/bin",
    "/sbin": "usr/sbin",
    "/lib": "usr/lib",
    "/lib64": None,
    "/etc": "",
    "/etc/ssl": "",
    "/etc/hosts": "",
    "/etc/localtime": "/usr/share/zoneinfo/UTC",
}


def _pairs(argv: list[str], flag: str) -> list[tuple[str, str]]:
    return [(argv[i + 1], argv[i + 2]) for i, word in enumerate(argv) if word == flag]


def test_system_folders_keep_their_shape_and_the_pod_owns_its_etc_files() -> None:
    mounts = system_mounts(SYSTEM)
    assert Mount("ro", "/usr", "/usr") in mounts
    assert Mount("symlink", "/bin", source="usr/bin") in mounts
    assert Mount("ro", "/etc/ssl", "/etc/ssl") in mounts
    assert Mount("symlink", "/etc/localtime", source="/usr/share/zoneinfo/UTC") in mounts
    targets = [m.target for m in mounts]
    assert "/lib64" not in targets  # absent here
    assert "/etc/hosts" not in targets  # the pod's own
    assert "/etc" not in targets  # a folder of the sandbox, so a pod may mount below it


def test_a_container_sandbox() -> None:
    sandbox = Sandbox(
        argv=["python", "-m", "app"],
        env={"HOME": "/", "PATH": "/app/.venv/bin:/usr/bin"},
        workdir="/app",
        mounts=[
            *system_mounts(SYSTEM),
            Mount("ro", "/app/.venv", "/cache/venv"),
            Mount("tmpfs", "/tmp", mode=0o777),
            Mount("ro", "/etc/relay/secret", "/pods/relay/volumes/secret"),
        ],
        uid=10001,
        gid=10001,
        groups=[10001],
        hostname="relay-abc",
        netns="/proc/42/ns/net",
        info_fd=7,
    )
    argv = bwrap_argv(sandbox, bwrap="BWRAP", nsenter="NSENTER")
    assert argv[:3] == ["NSENTER", "--net=/proc/42/ns/net", "--"]
    assert argv[3] == "BWRAP"
    for flag in ("--die-with-parent", "--unshare-pid", "--as-pid-1", "--clearenv"):
        assert flag in argv
    assert argv[argv.index("--tmpfs") + 1] == "/"  # a fresh root first ...
    assert argv.index("--remount-ro") > max(i for i, w in enumerate(argv) if w == "--ro-bind")
    assert ("/cache/venv", "/app/.venv") in _pairs(argv, "--ro-bind")
    assert ("HOME", "/") in _pairs(argv, "--setenv")
    tmp = argv.index("/tmp")
    assert argv[tmp - 3 : tmp] == ["--perms", "777", "--tmpfs"]
    # Parents of mount points are made 0755 (bwrap would make them 0700), /etc among them.
    made = argv.index("/etc/relay")
    assert argv[made - 3 : made] == ["--perms", "755", "--dir"]
    assert made < argv.index("/etc/relay/secret")
    command = argv[argv.index("--", 4) + 1 :]
    assert command[0] == "/usr/bin/setpriv"
    assert "--reuid=10001" in command and "--regid=10001" in command
    assert "--groups=10001" in command and "--no-new-privs" in command
    assert "--pdeathsig=SIGKILL" in command
    assert command[-4:] == ["--", "python", "-m", "app"]


def test_a_writable_root_and_no_user_switch_for_builds() -> None:
    sandbox = Sandbox(argv=["sh"], env={}, workdir="/app", mounts=[], read_only_root=False)
    argv = bwrap_argv(sandbox)
    assert "--remount-ro" not in argv
    assert "/usr/bin/setpriv" not in argv
    assert argv[-2:] == ["--", "sh"]


def test_parent_folders_are_made_parents_first_outside_system_paths() -> None:
    folders = parent_folders(["/usr", "/etc/relay/secret", "/root/.pyenv/v", "/app/.venv", "/app"])
    assert folders == ["/app", "/etc", "/root", "/etc/relay", "/root/.pyenv"]
