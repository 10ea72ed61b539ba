//go:build unix

package cmd

import "syscall"

// openNonblock opens a FIFO without waiting for a writer, so a file that
// turns into one between a check and its open cannot hang a read.
const openNonblock = syscall.O_NONBLOCK
