"""Interrupts: SIGINT (Ctrl-C), SIGTERM and SIGHUP stop a run cleanly, never half-way through publishing.

:func:`src.runner.cli.main` makes them raise KeyboardInterrupt from its very start (:func:`interrupts_raise`),
the notebooks run in worker threads so that the interrupt is raised in the main thread, which only waits
(:func:`src.runner.schedule.execute_all`), and the few steps that must not be cut in half (creating the
temporary folders, swapping the results into place) hold the signals back until they are done
(:func:`signals_held`)."""

from __future__ import annotations

import contextlib
import os
import signal
import threading

INTERRUPT_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


@contextlib.contextmanager
def _handling(names, handler):
    """While inside, *handler* handles the signals *names* (those this system has); the previous
    handlers, which it yields, are put back on leaving. Only the main thread may set handlers:
    elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield {}
        return
    previous = {}
    try:  # a signal while the handlers are being swapped in still finds every swapped one put back
        for n in names:
            if hasattr(signal, n):
                previous[n] = signal.signal(getattr(signal, n), handler)
        yield previous
    finally:
        for n, old in previous.items():
            signal.signal(getattr(signal, n), old)


@contextlib.contextmanager
def interrupts_raise():
    """While inside, SIGINT (Ctrl-C), SIGTERM and SIGHUP raise KeyboardInterrupt, so that the run
    cleans up after itself (only in the main thread). SIGINT too, rather than Python's own handler:
    a process started in the background by a shell (``make run &``, ``make test &``) inherits SIGINT
    ignored, and Python then installs no handler for it, so that a run would go on to its end after
    an interrupt sent to it."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt(signal.Signals(signum).name)

    with _handling(INTERRUPT_SIGNALS, interrupt):
        yield


@contextlib.contextmanager
def signals_held():
    """Hold SIGINT, SIGTERM and SIGHUP back while inside (they take effect on leaving), so that swapping
    the results into place is never cut in half.

    The Python handlers are swapped for one that only notes the signal, and the first noted signal is
    handed to the previous handler on leaving. (A blocked signal mask would not do: it holds only the
    calling thread, and the kernel then hands a signal sent to the process to another thread, such as
    one of numpy's BLAS threads, whose C handler lets Python raise in the main thread at once.)"""
    pending: list[int] = []
    previous: dict = {}
    try:
        with _handling(INTERRUPT_SIGNALS, lambda signum, frame: pending.append(signum)) as previous:
            yield
    finally:
        if pending:
            signum = pending[0]
            handler = previous[signal.Signals(signum).name]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)  # its default action, now that the handler is back
