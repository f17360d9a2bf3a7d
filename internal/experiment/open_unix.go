//go:build unix

package experiment

import "syscall"

// openNonblock makes opening a FIFO without a writer return at once, so that
// readSpecFile can reject it instead of hanging.
const openNonblock = syscall.O_NONBLOCK
