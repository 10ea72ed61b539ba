package doctor

import (
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// connLimit is a listener that holds at most max connections open at once.
// At the cap, the connection it has just accepted waits (and the ones behind
// it wait in the kernel's backlog) until a connection closes, or until the
// oldest connection whose request has not been read in full is older than
// grace: that one is closed to make room. A client that sends its request
// at once (Keycloak's back-channel POST is one write) is never the one
// closed; a client that trickles its request (slowloris) holds its place
// only until newer connections need it.
type connLimit struct {
	net.Listener
	max   int
	grace time.Duration
	now   func() time.Time

	mu      sync.Mutex
	open    []*limitedConn // in the order they were accepted
	peak    int
	evicted int

	freed     chan struct{} // gets a value when a connection closes
	done      chan struct{} // closed by Close
	closeOnce sync.Once
}

func newConnLimit(l net.Listener, limit int, grace time.Duration) *connLimit {
	return &connLimit{Listener: l, max: limit, grace: grace, now: time.Now, freed: make(chan struct{}, 1), done: make(chan struct{})}
}

// limitedConn is a connection connLimit counts until it is closed.
type limitedConn struct {
	net.Conn
	l        *connLimit
	accepted time.Time
	read     atomic.Bool // its request was read in full: never closed to make room
	once     sync.Once
}

// Close closes the connection and frees its place.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.remove(c) })
	return err
}

// requestRead marks the connection's request as read in full.
func (c *limitedConn) requestRead() { c.read.Store(true) }

func (l *connLimit) remove(c *limitedConn) {
	l.mu.Lock()
	for i, o := range l.open {
		if o == c {
			l.open = append(l.open[:i], l.open[i+1:]...)
			break
		}
	}
	l.mu.Unlock()
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

// Accept accepts a connection and waits for its place (see connLimit).
func (l *connLimit) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	lc := &limitedConn{Conn: c, l: l}
	for {
		l.mu.Lock()
		now := l.now()
		if len(l.open) < l.max {
			lc.accepted = now
			l.open = append(l.open, lc)
			l.peak = max(l.peak, len(l.open))
			l.mu.Unlock()
			return lc, nil
		}
		var victim *limitedConn
		wait := time.Duration(-1)
		for _, o := range l.open {
			if o.read.Load() {
				continue
			}
			if age := now.Sub(o.accepted); age >= l.grace {
				victim = o
				l.evicted++
			} else {
				wait = l.grace - age
			}
			break
		}
		l.mu.Unlock()
		if victim != nil {
			victim.Close()
			continue
		}
		if !l.waitForRoom(wait) {
			c.Close()
			return nil, net.ErrClosed
		}
	}
}

// waitForRoom waits until a connection closes, or wait has passed (wait < 0:
// no limit); false when the listener was closed meanwhile.
func (l *connLimit) waitForRoom(wait time.Duration) bool {
	var timeout <-chan time.Time
	if wait >= 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-l.freed:
	case <-timeout:
	case <-l.done:
		return false
	}
	return true
}

// Close stops accepting; the open connections stay open.
func (l *connLimit) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// counts returns the connections open now, the most open at once, and how
// many were closed to make room.
func (l *connLimit) counts() (open, peak, evicted int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.open), l.peak, l.evicted
}
