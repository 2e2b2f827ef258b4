"""A network namespace per pod, and the forwards that stand in for Services and port-forwards.

Each pod gets a namespace of its own (held by a "pause" process, as a pod's sandbox container
holds it), with only loopback: two pods may bind the same port, and nothing a pod binds is seen
on the host. Connections cross namespaces through sockets this process opens inside them
(`setns` on a short-lived thread: a socket stays in the namespace it was created in):
- a Service name resolves (the pod's /etc/hosts) to a 127.0.1.x address in the pod's namespace,
  where a listener forwards each connection to the serving pod's port, or to a host address;
- `Forwarder.listen(None, ...)` on the host's 127.0.0.1 reaches into a pod (kubectl port-forward).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

CLONE_NEWNET = 0x40000000
LOOPBACK = "127.0.0.1"
_libc = ctypes.CDLL(None, use_errno=True)
_CHUNK = 65536

# Where a forwarded connection goes: (network namespace path or None for the host, host, port),
# or None when nothing serves it now (a Service with no ready endpoint: the connection is closed).
Target = tuple[str | None, str, int] | None


def socket_in(netns: str | None, family: int = socket.AF_INET) -> socket.socket:
    """A TCP socket created inside the network namespace `netns` (None: this process's)."""
    if netns is None:
        return socket.socket(family, socket.SOCK_STREAM)
    made: dict[str, object] = {}

    def work() -> None:
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open(netns, os.O_RDONLY)
        try:
            if _libc.setns(target, CLONE_NEWNET) != 0:
                errno = ctypes.get_errno()
                raise OSError(errno, f"setns({netns}): {os.strerror(errno)}")
            made["socket"] = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:
            made["error"] = exc
        finally:
            # The thread ends right after; going back keeps it harmless if it did not.
            _libc.setns(own, CLONE_NEWNET)
            os.close(own)
            os.close(target)

    thread = threading.Thread(target=work, name="podrunner-setns")
    thread.start()
    thread.join()
    if "error" in made:
        raise made["error"]  # type: ignore[misc]
    return made["socket"]  # type: ignore[return-value]


PAUSE = ["sleep", "infinity"]


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:  # noqa: PTH123 - /proc, not a file tree
            return handle.read().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


@dataclass
class Sandbox:
    """A pod's network namespace, held by a sleeping process until `close()`."""

    process: subprocess.Popen[bytes]
    pid: int

    @property
    def path(self) -> str:
        return f"/proc/{self.pid}/ns/net"

    @classmethod
    def create(cls, bwrap: str, spawn: Callable[..., subprocess.Popen[bytes]]) -> Sandbox:
        read, write = os.pipe()
        argv = [bwrap, "--die-with-parent", "--unshare-net", "--unshare-pid", "--as-pid-1"]
        argv += ["--ro-bind", "/", "/", "--info-fd", str(write), "--", *PAUSE]
        try:
            process = spawn(argv, pass_fds=(write,))
        finally:
            os.close(write)
        with os.fdopen(read, "rb") as info:
            text = info.read()
        try:
            pid = int(json.loads(text)["child-pid"])
        except (ValueError, KeyError) as exc:
            process.kill()
            raise RuntimeError(f"bwrap gave no child pid for a pod sandbox: {text!r}") from exc
        # bwrap tells the pid before it brings loopback up; it runs `sleep` once it has.
        deadline = time.monotonic() + 30
        while _cmdline(pid) != PAUSE and time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"a pod sandbox exited with code {process.returncode}")
            time.sleep(0.01)
        return cls(process, pid)

    def close(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, 9)
        self.process.kill()
        self.process.wait(timeout=10)


class Forwarder:
    """TCP forwards between namespaces, on an asyncio loop of its own thread."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="podrunner-forwarder", daemon=True
        )
        self._servers: list[asyncio.base_events.Server] = []
        self._thread.start()

    def listen(self, netns: str | None, host: str, port: int, target: Callable[[], Target]) -> int:
        """Listen on host:port inside `netns` (port 0: any free one); returns the port."""
        sock = socket_in(netns)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        sock.setblocking(False)

        async def serve() -> asyncio.base_events.Server:
            return await asyncio.start_server(lambda r, w: self._connect(r, w, target), sock=sock)

        server = asyncio.run_coroutine_threadsafe(serve(), self._loop).result()
        self._servers.append(server)
        return int(sock.getsockname()[1])

    async def _connect(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        target: Callable[[], Target],
    ) -> None:
        destination = target()
        if destination is None:
            writer.close()
            return
        netns, host, port = destination
        try:
            sock = await self._loop.run_in_executor(None, socket_in, netns)
            sock.setblocking(False)
            await self._loop.sock_connect(sock, (host, port))
            upstream_reader, upstream_writer = await asyncio.open_connection(sock=sock)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            _pump(reader, upstream_writer), _pump(upstream_reader, writer), return_exceptions=True
        )

    def close(self) -> None:
        async def shutdown() -> None:
            for server in self._servers:
                server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except (ConnectionError, OSError):
        pass
    finally:
        if reader.at_eof():
            await _close_later(writer)


async def _close_later(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        writer.close()
        await writer.wait_closed()


def hosts_file(pod_name: str, pod_ip: str, services: dict[str, str], namespace: str) -> str:
    """/etc/hosts of a pod: itself, then each Service under its short and qualified names."""
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost", f"{pod_ip}\t{pod_name}"]
    for name, address in sorted(services.items(), key=lambda item: item[1]):
        qualified = f"{name}.{namespace}"
        names = [name, qualified, f"{qualified}.svc", f"{qualified}.svc.cluster.local"]
        lines.append(f"{address}\t{' '.join(names)}")
    return "\n".join(lines) + "\n"


def resolv_conf(namespace: str) -> str:
    """The kubelet's search path for the namespace; no name server answers in the pod."""
    search = f"{namespace}.svc.cluster.local svc.cluster.local cluster.local"
    return f"search {search}\nnameserver 127.0.0.53\noptions ndots:5\n"


def service_addresses(names: list[str]) -> dict[str, str]:
    """A loopback address per Service name (127.0.1.1, ...): a ClusterIP inside every pod."""
    if len(names) > 250:
        raise ValueError(f"{len(names)} Services: more than this address plan holds")
    return {name: f"127.0.1.{index}" for index, name in enumerate(sorted(set(names)), start=1)}
