"""Start a run's notebook kernels by forking one warm process instead of starting Python once per notebook.

Every kernel of a run would otherwise start Python and import the same stack (ipykernel, pandas,
lifelines, matplotlib...): about 2 s of CPU each, most of a short notebook's cost. The runner starts
one *fork server* per run (:func:`start`). The server imports ipykernel and every module the
notebooks import (:func:`imports_of`), then waits. For each kernel, jupyter_client launches a tiny
*client* (:func:`client_command`, about 30 ms) instead of ``python -m ipykernel_launcher``. The
client hands the server its command line, environment, working folder and standard streams; the
server forks a child that becomes the kernel; the client waits for it, passes SIGINT, SIGTERM and
SIGHUP on, and exits with the kernel's status. So:

- a kernel lives exactly as long as its client: when the client is killed, the server sees its
  connection close and kills the kernel;
- the server ends, killing any kernel left, when the runner closes the server's stdin (:func:`stop`)
  or dies; a kernel whose server is killed ends by itself (ipykernel's parent poller);
- every notebook still has a process of its own: nothing passes between notebooks. A kernel starts
  from the server's state just after its imports, as a new kernel would after importing the same
  modules. One difference: a warning printed while a module is first imported is printed once, by the
  server (into the kernel log), not in the notebook that imports it.

Only on Linux (:func:`available`); ``HAIC_FORK=0`` turns it off (kernels start the usual way).
Place in the import order: the pipeline (used by the runner only); imports nothing of the project,
so that a client starts in milliseconds.
"""
from __future__ import annotations

import ast
import json
import os
import selectors
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

SWITCH_VARIABLE = "HAIC_FORK"  # "0": start every kernel as its own Python process
LAUNCHER = "ipykernel_launcher"  # the kernel command the server knows how to become
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
CONNECT_SECONDS = 120  # a client waits at most this long for the server (it imports for a few seconds)
_HEADER = struct.Struct("!I")
# never imported by the server: importing it outside a kernel would skip its hook into the kernel's shell
NOT_WARMED = ("matplotlib_inline", "ipykernel_launcher", "__future__")


def available() -> bool:
    """Whether kernels may be forked here: Linux (fork is safe there with these libraries), not turned off."""
    return sys.platform.startswith("linux") and os.environ.get(SWITCH_VARIABLE, "").strip() != "0"


def imports_of(notebooks) -> list[str]:
    """The modules the code cells of *notebooks* import at their top level (``import a.b``, ``from a import
    b``: ``a`` and ``a.b``), in first-seen order. A cell that is not plain Python (a magic) is skipped."""
    seen: dict[str, None] = {}
    for notebook in notebooks:
        for cell in json.loads(Path(notebook).read_text(encoding="utf-8")).get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            try:
                tree = ast.parse("".join(cell.get("source", "")))
            except SyntaxError:
                continue
            for node in tree.body:
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
                else:
                    continue
                for name in names:
                    if name.split(".")[0] not in NOT_WARMED:
                        seen.setdefault(name, None)
    return list(seen)


# --------------------------------------------------------------------------
# The runner's side
# --------------------------------------------------------------------------


def start(socket_path: Path, modules, cwd: Path, log_path: Path) -> subprocess.Popen:
    """Start the server listening on *socket_path* (in a private folder) and importing *modules*; its
    messages go to *log_path*. Clients may connect at once: they wait while it imports."""
    env = dict(os.environ)
    # what ipykernel sets before a kernel's first import of matplotlib, so that the inline backend is chosen
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    with open(log_path, "ab") as log:
        return subprocess.Popen([sys.executable, "-m", "src.runner.forkserver", "serve", str(socket_path), *modules],
                                stdin=subprocess.PIPE, stdout=log, stderr=log, cwd=cwd, env=env,
                                start_new_session=True)  # like a kernel: Ctrl-C in the terminal is the runner's


def stop(server: subprocess.Popen | None, timeout: float = 10) -> None:
    """End the server (closing its stdin): it kills any kernel still running and exits."""
    if server is None:
        return
    try:
        server.stdin.close()
    except OSError:
        pass
    try:
        server.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def client_command(socket_path: Path, kernel_cmd: list[str]) -> list[str] | None:
    """The command that jupyter_client launches instead of *kernel_cmd* (a ``python -m ipykernel_launcher``
    command), or None when *kernel_cmd* is another kernel (it is then launched as it is)."""
    if LAUNCHER not in kernel_cmd:
        return None
    return [sys.executable, "-m", "src.runner.forkserver", "client", str(socket_path), "--",
            *kernel_cmd[kernel_cmd.index(LAUNCHER) + 1:]]


# --------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------


def _send(sock: socket.socket, message: dict, fds=()) -> None:
    payload = json.dumps(message).encode("utf-8")
    socket.send_fds(sock, [_HEADER.pack(len(payload)) + payload], list(fds))


def _receive(sock: socket.socket, with_fds: int = 0):
    """One message (and up to *with_fds* file descriptors); None when the other side has gone."""
    data, fds, _, _ = socket.recv_fds(sock, 65536, with_fds) if with_fds else (sock.recv(65536), [], 0, None)
    if not data:
        return None, fds
    while len(data) < _HEADER.size or len(data) < _HEADER.size + _HEADER.unpack_from(data)[0]:
        more = sock.recv(65536)
        if not more:
            return None, fds
        data += more
    size = _HEADER.unpack_from(data)[0]
    return json.loads(data[_HEADER.size:_HEADER.size + size]), fds


def _connect(path: str) -> socket.socket:
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def client(path: str, kernel_args: list[str]) -> int:
    """Ask the server at *path* for a kernel with *kernel_args*, wait for it and return its exit status."""
    sock = _connect(path)
    _send(sock, {"args": kernel_args, "cwd": os.getcwd(), "env": dict(os.environ)}, fds=(0, 1, 2))
    reply, _ = _receive(sock)
    if reply is None:
        print("fork server: no kernel (the server has gone)", file=sys.stderr)
        return 1
    pid = reply["pid"]

    def forward(signum, frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for number in FORWARDED_SIGNALS:
        signal.signal(number, forward)
    reply, _ = _receive(sock)  # the kernel's exit status, when it ends
    return 1 if reply is None else int(reply["status"])


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


def _warm(modules) -> None:
    import importlib

    for name in ["ipykernel.kernelapp", *modules]:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001  not a module (``from a import function``) or failing: the notebook will say
            pass


def _become_kernel(request: dict, fds: list[int], close: list) -> None:
    """In the forked child: take the client's streams, folder and environment, run ipykernel, exit."""
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for thing in close:
            thing.close()
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        for fd in fds:
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        # a kernel ends when its parent does (ipykernel's parent poller): here the server, as the runner is for a
        # kernel started the usual way (ipykernel read JPY_PARENT_PID when the server imported it: too early)
        args = [*request["args"], f"--IPKernelApp.parent_handle={os.getppid()}"]
        sys.argv = [LAUNCHER, *args]
        from ipykernel import kernelapp

        kernelapp.launch_new_instance(argv=args)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # noqa: BLE001  the kernel failed: its traceback goes to the kernel log
        import traceback

        traceback.print_exc()
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()  # what a kernel's Python runs at its exit (IPython's history, ...)
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve(path: str, modules) -> None:
    """Listen on *path*, import *modules*, fork a kernel per client; end when stdin closes."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    _warm(modules)
    wake_read, wake_write = socket.socketpair()
    for end in (wake_read, wake_write):
        end.setblocking(False)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    signal.set_wakeup_fd(wake_write.fileno())
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(sys.stdin, selectors.EVENT_READ, "stdin")
    selector.register(wake_read, selectors.EVENT_READ, "child")
    kernels: dict[int, socket.socket] = {}  # pid -> its client's connection
    running = True
    while running:
        for key, _ in selector.select():
            if key.data == "accept":
                conn, _ = listener.accept()
                request, fds = _receive(conn, with_fds=3)
                if request is None:
                    conn.close()
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    _become_kernel(request, fds, [selector, listener, wake_read, wake_write, conn,
                                                  *kernels.values()])
                for fd in fds:
                    os.close(fd)
                kernels[pid] = conn
                _send(conn, {"pid": pid})
                selector.register(conn, selectors.EVENT_READ, pid)
            elif key.data == "stdin":
                if not os.read(sys.stdin.fileno(), 1024):
                    running = False
            elif key.data == "child":
                try:
                    while wake_read.recv(4096):
                        pass
                except BlockingIOError:
                    pass
            elif key.data in kernels:  # a client sends nothing more: this is its end (killed?), so its kernel's
                selector.unregister(key.fileobj)
                _kill(key.data)
            _reap(kernels, selector)
    for pid in list(kernels):
        _kill(pid)
    deadline = time.monotonic() + 5
    while kernels and time.monotonic() < deadline:
        _reap(kernels, selector)
        time.sleep(0.01)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(kernels: dict, selector) -> None:
    """Collect the kernels that ended and tell their clients their exit status."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = kernels.pop(pid, None)
        if conn is None:
            continue
        try:
            _send(conn, {"status": os.waitstatus_to_exitcode(status)})
        except OSError:
            pass
        try:
            selector.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:
        serve(argv[1], argv[2:])
        return 0
    if argv[:1] == ["client"] and "--" in argv:
        return client(argv[1], argv[argv.index("--") + 1:])
    print("usage: python -m src.runner.forkserver serve SOCKET [MODULE...] | client SOCKET -- KERNEL-ARGS", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
