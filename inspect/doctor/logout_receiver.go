package doctor

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxLogoutPost bounds one back-channel logout request body.
const maxLogoutPost = 64 << 10

// Receiver is a relying party's back-channel logout endpoint for the logout
// probe: it takes the POSTs Keycloak sends (form field logout_token) on any
// path of a listener the caller opened, and records them. It answers 200
// with Cache-Control: no-store, as the specification has a relying party
// answer (whether the token is valid is the probe's verdict, not the
// answer's), and closes each connection.
type Receiver struct {
	l   net.Listener
	srv *http.Server
	// Hold delays each answer (to measure whether Keycloak waits for it).
	Hold time.Duration
	now  func() time.Time

	mu         sync.Mutex
	deliveries []Delivery
	arrived    chan struct{} // closed and replaced at each delivery
}

// Delivery is one POST the receiver took.
type Delivery struct {
	// At is when the request arrived, Answered when its answer was sent.
	At, Answered time.Time
	Path         string
	Remote       string
	ContentType  string
	// Token is the logout_token field ("" when the request had none);
	// Problem says what was wrong with a request that was not a logout.
	Token   string
	Problem string
}

// NewReceiver serves the back-channel endpoint on l until Close.
func NewReceiver(l net.Listener) *Receiver {
	r := &Receiver{l: l, now: time.Now, arrived: make(chan struct{})}
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	go r.srv.Serve(l)
	return r
}

// Addr is the address the receiver listens on.
func (r *Receiver) Addr() net.Addr { return r.l.Addr() }

// Close stops the receiver.
func (r *Receiver) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return r.srv.Shutdown(ctx)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	d := Delivery{At: r.now(), Path: req.URL.Path, Remote: req.RemoteAddr, ContentType: req.Header.Get("Content-Type")}
	status := http.StatusOK
	switch {
	case req.Method != http.MethodPost:
		d.Problem, status = req.Method+" instead of POST", http.StatusMethodNotAllowed
	default:
		req.Body = http.MaxBytesReader(w, req.Body, maxLogoutPost)
		if err := req.ParseForm(); err != nil {
			d.Problem, status = "the body is not a form: "+err.Error(), http.StatusBadRequest
		} else if d.Token = req.PostForm.Get("logout_token"); d.Token == "" {
			d.Problem, status = "no logout_token field", http.StatusBadRequest
		}
	}
	if r.Hold > 0 {
		time.Sleep(r.Hold)
	}
	w.Header().Set("Cache-Control", "no-store")
	// Keycloak pools connections to back-channel URLs and does not retry a
	// POST on a pooled connection that the other side closed (measured:
	// "NoHttpResponseException: … failed to respond", the token lost). The
	// receiver lives for one probe, so it lets no connection be pooled.
	w.Header().Set("Connection", "close")
	w.WriteHeader(status)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	d.Answered = r.now()
	r.mu.Lock()
	r.deliveries = append(r.deliveries, d)
	close(r.arrived)
	r.arrived = make(chan struct{})
	r.mu.Unlock()
}

// Deliveries returns what arrived so far.
func (r *Receiver) Deliveries() []Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Delivery(nil), r.deliveries...)
}

// Wait returns the first delivery with a logout token that arrived at or
// after since, waiting until deadline; nil when none came.
func (r *Receiver) Wait(ctx context.Context, since, deadline time.Time) *Delivery {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	for {
		r.mu.Lock()
		for i := range r.deliveries {
			if d := r.deliveries[i]; d.Token != "" && !d.At.Before(since) {
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
