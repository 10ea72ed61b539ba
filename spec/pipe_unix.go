//go:build unix

package spec

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// readPipe reads f, a pipe or FIFO opened non-blocking, until its writer
// closes it, limit bytes at most, for wait at most. A FIFO that no writer
// has opened yet reads as empty without blocking; it is waited for.
func readPipe(f *os.File, limit int64, wait time.Duration) ([]byte, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(wait)
	var data []byte
	var readErr error
	err = rc.Control(func(fd uintptr) {
		buf := make([]byte, 64<<10)
		hup := false
		for int64(len(data)) < limit {
			n, err := unix.Read(int(fd), buf[:min(int64(len(buf)), limit-int64(len(data)))])
			switch {
			case n > 0:
				data = append(data, buf[:n]...)
				continue
			case errors.Is(err, unix.EINTR):
				continue
			case err == nil && (len(data) > 0 || hup):
				return // the writer closed it
			case err != nil && !errors.Is(err, unix.EAGAIN):
				readErr = err
				return
			}
			// No writer yet (a read of 0), or nothing written yet (EAGAIN).
			left := time.Until(deadline)
			if left <= 0 {
				readErr = fmt.Errorf("a FIFO or pipe that nothing wrote within %v (ssoctl waits %v at most for sso.yaml to arrive through one)", wait, wait)
				if len(data) > 0 {
					readErr = fmt.Errorf("a FIFO or pipe whose writer sent %d bytes but did not close it within %v (ssoctl waits %v at most for sso.yaml to arrive through one)", len(data), wait, wait)
				}
				return
			}
			fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			if _, err := unix.Poll(fds, int(left/time.Millisecond)+1); err != nil && !errors.Is(err, unix.EINTR) {
				readErr = err
				return
			}
			hup = hup || fds[0].Revents&unix.POLLHUP != 0
		}
	})
	if err != nil {
		return nil, err
	}
	return data, readErr
}
