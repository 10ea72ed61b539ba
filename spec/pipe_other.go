//go:build !unix

package spec

import (
	"errors"
	"os"
	"time"
)

// readPipe refuses pipes and FIFOs where ssoctl cannot wait on one with a
// time limit.
func readPipe(*os.File, int64, time.Duration) ([]byte, error) {
	return nil, errors.New("a pipe or FIFO: give a regular file, or - for stdin")
}
