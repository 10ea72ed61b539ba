//go:build integration

package cmd

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/inspect/doctor"
)

// The receiver's bounds under attack, as counts: the heap of this process
// (the probe runs in it) and the receiver's own sockets.
const (
	receiverHeapBound = 64 << 20
	// receiverFDBound is the receiver's connection cap, and the one it
	// holds while waiting for room.
	receiverFDBound = 256 + 1
)

// attack runs n goroutines of hit against addr until stop is closed; hit
// returns after one connection (refused ones included).
type attack struct {
	addr string
	stop chan struct{}
	wg   sync.WaitGroup
	// connected counts connections made, answered the answers read.
	connected, answered atomic.Int64
}

func startAttack(addr string, n int, hit func(a *attack, i int)) *attack {
	a := &attack{addr: addr, stop: make(chan struct{})}
	for i := range n {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			for !a.stopped() {
				hit(a, i)
			}
		}()
	}
	return a
}

func (a *attack) stopped() bool {
	select {
	case <-a.stop:
		return true
	default:
		return false
	}
}

func (a *attack) end() {
	close(a.stop)
	a.wg.Wait()
}

// dial connects to the receiver, waiting a little while it is not up yet.
func (a *attack) dial() net.Conn {
	c, err := net.Dial("tcp", a.addr)
	if err != nil {
		time.Sleep(5 * time.Millisecond)
		return nil
	}
	a.connected.Add(1)
	c.SetDeadline(time.Now().Add(time.Minute)) // no hang if the receiver never closes it
	return c
}

// readAnswer counts an answer on c, if one comes.
func (a *attack) readAnswer(c net.Conn) {
	if line, err := bufio.NewReader(c).ReadString('\n'); err == nil && strings.HasPrefix(line, "HTTP/1.1 ") {
		a.answered.Add(1)
	}
}

// peak samples f every few milliseconds until stop and returns its largest value.
func peak(stop chan struct{}, every time.Duration, f func() int64) func() int64 {
	var max atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if v := f(); v > max.Load() {
				max.Store(v)
			}
			select {
			case <-stop:
				return
			case <-time.After(every):
			}
		}
	}()
	return func() int64 { <-done; return max.Load() }
}

// heapInuse is runtime.MemStats.HeapInuse (objects and the free space in
// their spans), read without stopping the world.
func heapInuse() int64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64() + s[1].Value.Uint64())
}

// serverSockets counts this process's descriptors that are accepted
// sockets of a listener on port: the receiver's connections (the clients'
// ends have another local port, and the kernel's backlog holds no
// descriptor).
func serverSockets(t *testing.T, port int) int64 {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) < 10 || fs[3] == "0A" { // 0A: the listening socket
				continue
			}
			if i := strings.LastIndexByte(fs[1], ':'); i >= 0 {
				if p, err := strconv.ParseInt(fs[1][i+1:], 16, 32); err == nil && int(p) == port {
					inodes[fs[9]] = true
				}
			}
		}
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Error(err)
		return 0
	}
	var n int64
	for _, fd := range fds {
		if link, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(link, "socket:[") {
			if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
				n++
			}
		}
	}
	return n
}

// receivedUnderAttack checks the probe's verdict: exit 0, Keycloak's token
// received and valid.
func receivedUnderAttack(t *testing.T, code int, rep doctor.LogoutReport, stdout string) doctor.Check {
	t.Helper()
	st := statuses(rep)
	if code != 0 || st[doctor.LogoutBCReceived] != doctor.OK || st[doctor.LogoutRefresh] != doctor.OK {
		t.Fatalf("exit %d, want 0 with the token received\n%s", code, stdout)
	}
	if bc := rep.Backchannel; bc == nil || !bc.Received || bc.Token == nil || !bc.Token.Valid || bc.Token.Claims["sid"] != rep.SID {
		t.Fatalf("backchannel: %+v", rep.Backchannel)
	}
	return check(rep, doctor.LogoutBCReceived)
}

// A flood while the real probe runs: many clients POSTing large bodies to
// the receiver as fast as they can (a declared 1 MiB form, an endless
// chunked form, the 64 KiB logout_token of issue 22, 64 KiB to another path)
// and small forged tokens of another session. Keycloak's token arrives and
// verifies, the heap stays under 64 MiB and the receiver's sockets under its
// cap.
func TestIntegrationLogoutReceiverFlood(t *testing.T) {
	port := freeLoopbackPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	r := newLogoutRig(t, "http://"+addr+"/backchannel-logout")

	big := strings.Repeat("a", 64<<10)
	chunk := fmt.Sprintf("%x\r\n%s\r\n", len(big), big)
	forged := "logout_token=" + strings.Repeat("e", 7<<10)
	requests := []string{
		"POST /backchannel-logout HTTP/1.1\r\nHost: r\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048576\r\n\r\n",
		"POST /backchannel-logout HTTP/1.1\r\nHost: r\r\nContent-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n\r\n",
		fmt.Sprintf("POST /backchannel-logout HTTP/1.1\r\nHost: r\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\nlogout_token=%s", len(big)+13, big),
		fmt.Sprintf("POST /other HTTP/1.1\r\nHost: r\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", len(big), big),
		fmt.Sprintf("POST /backchannel-logout HTTP/1.1\r\nHost: r\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s", len(forged), forged),
	}
	const flooders = 128
	a := startAttack(addr, flooders, func(a *attack, i int) {
		c := a.dial()
		if c == nil {
			return
		}
		defer c.Close()
		go a.readAnswer(c)
		kind := i % len(requests)
		if _, err := io.WriteString(c, requests[kind]); err != nil {
			return
		}
		for n := 0; kind <= 1 && n < 16 && !a.stopped(); n++ { // the declared and the chunked body, 1 MiB
			if kind == 0 {
				_, err := io.WriteString(c, big)
				if err != nil {
					return
				}
			} else if _, err := io.WriteString(c, chunk); err != nil {
				return
			}
		}
		io.Copy(io.Discard, c)
	})
	stop := make(chan struct{})
	heap := peak(stop, 5*time.Millisecond, heapInuse)
	socks := peak(stop, 20*time.Millisecond, func() int64 { return serverSockets(t, port) })

	code, rep, stdout := r.probe("--receiver", addr)
	close(stop)
	a.end()
	got := receivedUnderAttack(t, code, rep, stdout)
	t.Logf("flood: %d connections, %d answers; heap in use at most %d KiB; receiver sockets at most %d; %s",
		a.connected.Load(), a.answered.Load(), heap()>>10, socks(), got.Evidence)
	if a.connected.Load() < flooders || !strings.Contains(got.Evidence, "the receiver refused") || !strings.Contains(got.Evidence, "a body over 8192 bytes") {
		t.Errorf("the flood did not reach the receiver: %d connections; %s", a.connected.Load(), got.Evidence)
	}
	if h := heap(); h > receiverHeapBound {
		t.Errorf("heap in use reached %d MiB under the flood, want under %d", h>>20, receiverHeapBound>>20)
	}
	if n := socks(); n > receiverFDBound {
		t.Errorf("the receiver held %d sockets, want at most %d", n, receiverFDBound)
	}
}

// A slowloris while the real probe runs: 2,000 connections, half sending
// their headers byte by byte, half a form body byte by byte, each opened
// again as soon as the receiver closes it. Keycloak's token arrives and
// verifies; the receiver holds no more sockets than its cap (it closed slow
// ones to make room), and the heap stays under 64 MiB.
func TestIntegrationLogoutReceiverSlowloris(t *testing.T) {
	port := freeLoopbackPort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	r := newLogoutRig(t, "http://"+addr+"/backchannel-logout")

	const n = 2000
	head := "POST /backchannel-logout HTTP/1.1\r\nHost: r\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n"
	a := startAttack(addr, n, func(a *attack, i int) {
		c := a.dial()
		if c == nil {
			return
		}
		defer c.Close()
		trickle := head
		if i%2 == 1 {
			if _, err := io.WriteString(c, head); err != nil {
				return
			}
			trickle = "logout_token=" + strings.Repeat("s", 3987)
		}
		for j := 0; j < len(trickle) && !a.stopped(); j++ {
			if _, err := io.WriteString(c, trickle[j:j+1]); err != nil {
				return
			}
			select {
			case <-a.stop:
			case <-time.After(200 * time.Millisecond):
			}
		}
	})
	stop := make(chan struct{})
	heap := peak(stop, 5*time.Millisecond, heapInuse)
	socks := peak(stop, 20*time.Millisecond, func() int64 { return serverSockets(t, port) })

	code, rep, stdout := r.probe("--receiver", addr)
	close(stop)
	a.end()
	got := receivedUnderAttack(t, code, rep, stdout)
	t.Logf("slowloris: %d connections; heap in use at most %d KiB; receiver sockets at most %d; %s",
		a.connected.Load(), heap()>>10, socks(), got.Evidence)
	if a.connected.Load() < n || !strings.Contains(got.Evidence, "slow ones to make room") {
		t.Errorf("the slowloris did not fill the receiver: %d connections; %s", a.connected.Load(), got.Evidence)
	}
	if s := socks(); s > receiverFDBound {
		t.Errorf("the receiver held %d sockets, want at most %d", s, receiverFDBound)
	}
	if h := heap(); h > receiverHeapBound {
		t.Errorf("heap in use reached %d MiB under the slowloris, want under %d", h>>20, receiverHeapBound>>20)
	}
}
