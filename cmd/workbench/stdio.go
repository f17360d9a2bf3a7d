package main

// Standard output that fails loudly: a verb whose output is lost (closed
// stdout, a closed pipe, a full disk) exits non-zero with a message instead
// of 0.
//
// A stdout closed at start (workbench export >&-) cannot be seen from Go:
// the runtime reopens fds 0–2 on /dev/null before main runs, so writes
// would succeed into nothing. A C constructor runs before the Go runtime
// starts and records which of the three were closed.

/*
#include <errno.h>
#include <fcntl.h>

static int workbench_std_closed[3];

__attribute__((constructor)) static void workbench_check_std_fds(void) {
	for (int fd = 0; fd < 3; fd++) {
		workbench_std_closed[fd] = fcntl(fd, F_GETFD) < 0 && errno == EBADF;
	}
}

static int workbench_std_was_closed(int fd) { return workbench_std_closed[fd]; }
*/
import "C"

import (
	"errors"
	"io"
	"os"
)

// stdWasClosed reports whether file descriptor fd (0, 1 or 2) was closed
// when the process started.
func stdWasClosed(fd int) bool { return C.workbench_std_was_closed(C.int(fd)) != 0 }

// errClosedStdout is what every write to a stdout closed at start returns.
var errClosedStdout = errors.New("write standard output: it was closed when workbench started; nothing was written")

// closedWriter stands for a stream that was closed at start.
type closedWriter struct{ err error }

func (c closedWriter) Write([]byte) (int, error) { return 0, c.err }

// stdout is os.Stdout, or a writer that fails when it was closed at start.
func stdout() io.Writer {
	if stdWasClosed(1) {
		return closedWriter{errClosedStdout}
	}
	return os.Stdout
}

// errWriter remembers the first write error; later writes fail at once,
// so a verb writing to a dead stream stops wasting work on it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		e.err = err
	}
	return n, err
}
