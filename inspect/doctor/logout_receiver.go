package doctor

import (
	"context"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The receiver's limits (README, "ssoctl doctor logout", says why each).
const (
	// maxLogoutPost bounds one back-channel logout request body: Keycloak
	// 26.7.3's form was 884 bytes (an 871-byte RS256 token, 2048-bit key);
	// a 4096-bit key adds 342 bytes and names of 255 characters about 1 KiB.
	maxLogoutPost = 8 << 10
	// maxLogoutHeader bounds the request line and headers (Keycloak's were
	// 237 bytes); net/http allows 4 KiB more.
	maxLogoutHeader = 8 << 10
	// maxReceiverConns is how many connections the receiver holds open at
	// once; receiverGrace is how long a connection may take to send its
	// request before, at the cap, it is closed to make room.
	maxReceiverConns = 256
	receiverGrace    = 100 * time.Millisecond
	// maxKeptDeliveries bounds the logout deliveries kept for the probe.
	maxKeptDeliveries = 16
	// The receiver's deadlines: the request (headers, then the whole
	// request), the answer, and an idle connection (none stays open: each
	// answer closes it).
	receiverReadHeaderTimeout = 2 * time.Second
	receiverReadTimeout       = 5 * time.Second
	receiverWriteTimeout      = 5 * time.Second
	receiverIdleTimeout       = time.Second
)

// DefaultBackchannelPath is the path the receiver reads until the probe
// names the one in the client's backchannel logout URL.
const DefaultBackchannelPath = "/backchannel-logout"

// Receiver is a relying party's back-channel logout endpoint for the logout
// probe: it takes the POSTs Keycloak sends (form field logout_token) to one
// path of a listener the caller opened, and keeps those of the probe's
// session. It answers 200 with Cache-Control: no-store, as the
// specification has a relying party answer (whether the token is valid is
// the probe's verdict, not the answer's), and closes each connection.
//
// It is bounded for a listener others can reach: at most maxReceiverConns
// connections at once, deadlines on every read and write, a body of at most
// maxLogoutPost bytes, and at most maxKeptDeliveries deliveries kept.
// Anything that is not a form POST to the path is answered at once, without
// reading its body, and only counted (Refusals).
type Receiver struct {
	l   *connLimit
	srv *http.Server
	// Hold delays each answer (to measure whether Keycloak waits for it).
	Hold time.Duration
	now  func() time.Time

	mu         sync.Mutex
	path       string
	accept     func(token string) bool
	deliveries []Delivery
	refusals   []Refusal     // one per reason, in the order first seen
	arrived    chan struct{} // closed and replaced at each delivery kept
}

// Delivery is one logout POST the receiver kept.
type Delivery struct {
	// At is when the request arrived, Answered when its answer was sent.
	At, Answered time.Time
	Path         string
	Remote       string
	ContentType  string
	// Token is the logout_token field.
	Token string
}

// Refusal counts the requests the receiver answered without keeping them,
// for one reason.
type Refusal struct {
	// Reason says what was wrong ("not a POST", "a body over 8192 bytes").
	Reason string
	Count  int
	// First describes the first such request, shortened and quoted.
	First string
}

type connKey struct{}

// discardLog takes net/http's complaints about clients (timeouts, resets):
// a flood of them would otherwise flood stderr.
var discardLog = log.New(io.Discard, "", 0)

// NewReceiver serves the back-channel endpoint on l until Close.
func NewReceiver(l net.Listener) *Receiver {
	r := newReceiver()
	r.l = newConnLimit(l, maxReceiverConns, receiverGrace)
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve),
		ReadHeaderTimeout: receiverReadHeaderTimeout, ReadTimeout: receiverReadTimeout,
		WriteTimeout: receiverWriteTimeout, IdleTimeout: receiverIdleTimeout, MaxHeaderBytes: maxLogoutHeader,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context { return context.WithValue(ctx, connKey{}, c) },
		ErrorLog:    discardLog}
	r.srv.SetKeepAlivesEnabled(false)
	go r.srv.Serve(r.l)
	return r
}

// newReceiver is a receiver's state, without a listener (serve works).
func newReceiver() *Receiver {
	return &Receiver{now: time.Now, path: DefaultBackchannelPath, arrived: make(chan struct{})}
}

// Addr is the address the receiver listens on.
func (r *Receiver) Addr() net.Addr { return r.l.Addr() }

// Expect names the one path the receiver reads (that of the client's
// backchannel logout URL) and which logout tokens it keeps: accept sees
// each token (unverified) and says whether the probe needs it; nil keeps
// every one. The others are counted. Deliveries kept before are tested
// again: a flood before the probe's logout must not fill the kept ones.
func (r *Receiver) Expect(path string, accept func(token string) bool) {
	if path == "" {
		path = "/"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.path, r.accept = path, accept
	kept := r.deliveries[:0]
	for _, d := range r.deliveries {
		if d.Path == path && (accept == nil || accept(d.Token)) {
			kept = append(kept, d)
		}
	}
	clear(r.deliveries[len(kept):])
	r.deliveries = kept
}

// Close stops the receiver: the answers under way may finish for a second,
// then every connection is closed.
func (r *Receiver) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := r.srv.Shutdown(ctx); err != nil {
		return r.srv.Close()
	}
	return nil
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	at := r.now()
	w.Header().Set("Cache-Control", "no-store")
	// Keycloak pools connections to back-channel URLs and does not retry a
	// POST on a pooled connection that the other side closed (measured:
	// "NoHttpResponseException: … failed to respond", the token lost). The
	// receiver lives for one probe, so it lets no connection be pooled.
	w.Header().Set("Connection", "close")
	r.mu.Lock()
	path, accept := r.path, r.accept
	r.mu.Unlock()
	ct := req.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	switch {
	case req.Method != http.MethodPost:
		w.Header().Set("Allow", http.MethodPost)
		r.refuse(w, req, "not a POST", http.StatusMethodNotAllowed)
		return
	case req.URL.Path != path:
		r.refuse(w, req, "to another path than "+path, http.StatusNotFound)
		return
	case mt != "application/x-www-form-urlencoded":
		r.refuse(w, req, "not a form (application/x-www-form-urlencoded)", http.StatusUnsupportedMediaType)
		return
	case req.ContentLength > maxLogoutPost:
		r.refuse(w, req, fmt.Sprintf("a body over %d bytes", maxLogoutPost), http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxLogoutPost+1))
	switch {
	case err != nil:
		r.refuse(w, req, "a body not sent in time or in full", http.StatusBadRequest)
		return
	case len(body) > maxLogoutPost:
		r.refuse(w, req, fmt.Sprintf("a body over %d bytes", maxLogoutPost), http.StatusRequestEntityTooLarge)
		return
	}
	form, err := url.ParseQuery(string(body))
	token := form.Get("logout_token")
	switch {
	case err != nil:
		r.refuse(w, req, "a body that is not a form", http.StatusBadRequest)
		return
	case token == "":
		r.refuse(w, req, "no logout_token field", http.StatusBadRequest)
		return
	}
	requestRead(req)
	if accept != nil && !accept(token) {
		r.count(req, "a logout token for another session, or not a JWT")
		r.answer(w, http.StatusOK)
		return
	}
	if r.Hold > 0 {
		http.NewResponseController(w).SetWriteDeadline(time.Now().Add(receiverWriteTimeout + r.Hold))
		time.Sleep(r.Hold)
	}
	// The time is taken as the answer goes out, not after: once written,
	// the sender may finish (and answer its own caller) before this
	// goroutine runs again, which made a delivery look answered late.
	answered := r.now()
	r.answer(w, http.StatusOK)
	d := Delivery{At: at, Answered: answered, Path: req.URL.Path, Remote: req.RemoteAddr, ContentType: ct, Token: token}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.deliveries) >= maxKeptDeliveries {
		r.countLocked(req, fmt.Sprintf("a logout token past the %d kept", maxKeptDeliveries))
		return
	}
	r.deliveries = append(r.deliveries, d)
	close(r.arrived)
	r.arrived = make(chan struct{})
}

// requestRead tells the connection limit that req's connection has sent
// its request: it is no longer one to close to make room.
func requestRead(req *http.Request) {
	if c, ok := req.Context().Value(connKey{}).(*limitedConn); ok {
		c.requestRead()
	}
}

func (r *Receiver) answer(w http.ResponseWriter, status int) {
	w.WriteHeader(status)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// refuse answers req at once, without reading its body, and counts it.
func (r *Receiver) refuse(w http.ResponseWriter, req *http.Request, reason string, status int) {
	requestRead(req)
	r.count(req, reason)
	r.answer(w, status)
}

func (r *Receiver) count(req *http.Request, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.countLocked(req, reason)
}

func (r *Receiver) countLocked(req *http.Request, reason string) {
	for i := range r.refusals {
		if r.refusals[i].Reason == reason {
			r.refusals[i].Count++
			return
		}
	}
	r.refusals = append(r.refusals, Refusal{Reason: reason, Count: 1,
		First: fmt.Sprintf("%s %s (%s) from %s", shorten(req.Method, 16), shorten(req.URL.Path, 64), shorten(req.Header.Get("Content-Type"), 64), req.RemoteAddr)})
}

// shorten quotes at most n bytes of s.
func shorten(s string, n int) string {
	if len(s) > n {
		return strconv.Quote(s[:n]) + "…"
	}
	return strconv.Quote(s)
}

// Deliveries returns the logout deliveries kept so far.
func (r *Receiver) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.deliveries...)
}

// Refusals returns what the receiver answered without keeping it, by reason.
func (r *Receiver) Refusals() []Refusal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Refusal(nil), r.refusals...)
}

// Connections returns the most connections the receiver held open at once
// and how many it closed to make room for newer ones.
func (r *Receiver) Connections() (peak, closed int) {
	_, peak, closed = r.l.counts()
	return peak, closed
}

// Wait returns the first delivery kept that arrived at or after since,
// waiting until deadline; nil when none came.
func (r *Receiver) Wait(ctx context.Context, since, deadline time.Time) *Delivery {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		r.mu.Lock()
		for i := range r.deliveries {
			if d := r.deliveries[i]; !d.At.Before(since) {
				r.mu.Unlock()
				return &d
			}
		}
		ch := r.arrived
		r.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return nil
		}
	}
}

// TargetsReceiver reports whether the back-channel URL u is addressed to a
// listener on addr: the same port, and the same host, or both loopback, or
// a listener on every interface.
func TargetsReceiver(u string, addr net.Addr) bool {
	pu, err := url.Parse(u)
	if err != nil || pu.Host == "" {
		return false
	}
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return false
	}
	port := pu.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[pu.Scheme]
	}
	if port != strconv.Itoa(tcp.Port) {
		return false
	}
	if pu.Scheme != "http" {
		return false // the receiver speaks plain HTTP
	}
	host := strings.ToLower(pu.Hostname())
	if tcp.IP.IsUnspecified() || tcp.IP.Equal(net.ParseIP(host)) {
		return true
	}
	loopback := func(h string) bool {
		ip := net.ParseIP(h)
		return h == "localhost" || strings.HasSuffix(h, ".localhost") || (ip != nil && ip.IsLoopback())
	}
	return tcp.IP.IsLoopback() && loopback(host)
}
