package cmd

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ssoctl/ssoctl/inspect/doctor"
	"github.com/ssoctl/ssoctl/keycloak"
	"github.com/ssoctl/ssoctl/spec"
)

type doctorLogoutOptions struct {
	keycloakOptions
	// Listen opens the receiver's listener; tests replace it.
	Listen func(network, addr string) (net.Listener, error)

	User     string
	Clients  []string
	Receiver string
	Timeout  time.Duration
}

func newDoctorLogoutCmd(f *Factory, runF func(*doctorLogoutOptions) error) *cobra.Command {
	opts := &doctorLogoutOptions{keycloakOptions: newKeycloakOptions(f), Listen: net.Listen}
	cmd := &cobra.Command{
		Use:   "logout --realm R --user U --client A --client B [--receiver ADDR] [--timeout 10s]",
		Short: "Prove single sign-out: logging out of one client ends the session of the other",
		Long: `Log U in to clients A and B with one SSO session (a headless browser:
the authorization-code flow for A through Keycloak's password form, then B,
which Keycloak's SSO cookie lets in without it), log out through A's
RP-initiated logout at the realm's end_session_endpoint, and check that
Keycloak now refuses B's refresh token and lists no session for U.

The password is read from $SSOCTL_PASSWORD, a prompt, or stdin. The clients'
secrets are read through the admin API. Each login ends at the client's first
valid redirect URI (nothing needs to listen there); the logout sends
post_logout_redirect_uri only when A allows one.

With --receiver ADDR (host:port, a port, or a URL whose host:port is used)
doctor listens on ADDR as B's backchannel logout endpoint, waits up to
--timeout for the logout_token Keycloak POSTs, and verifies it: the signature
with the realm's JWKS, iss, aud = B, iat, the back-channel logout event, sid
(or sub), and no nonce. A port alone, or no host (":8790"), means 127.0.0.1;
an address that is not loopback is named on stderr, as others can reach it. Keycloak posts to B's configured backchannel logout URL, which
doctor never changes: point it at ADDR (backchannel_logout_url: in sso.yaml,
then apply) for the token to arrive here.

Exit codes: 0 single sign-out worked (and with --receiver the token arrived
and verified), 3 a check failed, 1 a server could not be reached, 2 bad
usage or input.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.resolveTarget(); err != nil {
				return err
			}
			if err := validateDoctorLogoutOptions(opts); err != nil {
				return err
			}
			return runCommand(cmd, opts, runF, doctorLogoutRun)
		},
	}
	opts.addFlags(cmd, "the realm of both clients")
	fl := cmd.Flags()
	fl.StringVar(&opts.User, "user", "", "the user to log in and out (password from $SSOCTL_PASSWORD, a prompt or stdin)")
	fl.StringArrayVar(&opts.Clients, "client", nil, "client A (logged out of), then client B (must be logged out with it)")
	fl.StringVar(&opts.Receiver, "receiver", "", "listen on ADDR (host:port; a port alone means 127.0.0.1) as B's backchannel logout endpoint and verify the logout token")
	fl.DurationVar(&opts.Timeout, "timeout", 10*time.Second, "how long to wait for the logout token")
	return cmd
}

// receiverAddr reads --receiver: host:port, a bare port, or a URL whose
// host:port is used. The port must be given: B's backchannel URL names it.
// A bare port or an empty host (":8790") means loopback, 127.0.0.1: the
// receiver listens on another interface only when the user names it.
func receiverAddr(v string) (string, error) {
	if strings.Contains(v, "://") {
		u, err := url.Parse(v)
		if err != nil {
			return "", err
		}
		if u.Scheme != "http" {
			return "", errors.New("the receiver speaks plain http")
		}
		v = u.Host
	} else if v != "" && strings.Trim(v, "0123456789") == "" {
		v = ":" + v // a bare port
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return "", errors.New("want host:port or a port, e.g. 127.0.0.1:8790")
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return "", errors.New("want a port from 1 to 65535: B's backchannel logout URL must name it")
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// listenReceiver opens the receiver's listener and says on stderr when it
// is not on loopback: other machines can then reach it.
func listenReceiver(opts *doctorLogoutOptions) (net.Listener, error) {
	l, err := opts.Listen("tcp", opts.Receiver)
	if err != nil {
		return nil, fmt.Errorf("--receiver: cannot listen on %s: %w", opts.Receiver, err)
	}
	if tcp, ok := l.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		th := opts.IO.ErrTheme()
		msg := fmt.Sprintf("the receiver listens on %s, not on loopback: other machines can reach it", tcp)
		if tcp.IP.IsUnspecified() {
			msg = fmt.Sprintf("the receiver listens on %s: every interface can reach it, other machines too", tcp)
		}
		fmt.Fprintf(opts.IO.ErrOut, "%s %s\n", th.Warn.Render("warning:"), msg)
	}
	return l, nil
}

// validateDoctorLogoutOptions checks the flags and reads --receiver.
func validateDoctorLogoutOptions(opts *doctorLogoutOptions) error {
	switch {
	case opts.User == "":
		return usageErrorf("--user is required: the user whose single sign-out is proven")
	case len(opts.Clients) != 2:
		return usageErrorf("give --client twice: the client logged out of (A), then the one whose session must end with it (B)")
	case opts.Clients[0] == opts.Clients[1]:
		return usageErrorf("the two --client values must differ")
	case opts.Timeout <= 0:
		return usageErrorf("--timeout must be positive")
	}
	if opts.Receiver != "" {
		addr, err := receiverAddr(opts.Receiver)
		if err != nil {
			return usageErrorf("--receiver %s: %v", opts.Receiver, err)
		}
		opts.Receiver = addr
	}
	return nil
}

func doctorLogoutRun(opts *doctorLogoutOptions) error {
	kc, err := opts.connect.keycloakAdmin(opts.URL, spec.Admin{})
	if err != nil {
		return err
	}
	hc, err := opts.connect.plainHTTP()
	if err != nil {
		return err
	}
	password, err := readPassword(opts.IO, opts.Getenv, "Password for "+opts.User+": ")
	if err != nil {
		return err
	}
	opts.Redactor.Add(password)
	o := doctor.LogoutOptions{Timeout: opts.Timeout, Secret: func(s string) { opts.Redactor.Add(s) }}
	if opts.Receiver != "" {
		l, err := listenReceiver(opts)
		if err != nil {
			return err
		}
		o.Receiver = doctor.NewReceiver(l)
		defer o.Receiver.Close()
	}
	t := doctor.LogoutTarget{KeycloakURL: opts.URL, Realm: opts.Realm, User: opts.User, Password: password, First: opts.Clients[0], Second: opts.Clients[1]}
	rep, err := doctor.Logout(opts.Context, t, doctor.Systems{Keycloak: kc, HTTP: hc, Now: opts.Now}, o)
	if err != nil {
		var nf *keycloak.NotFoundError
		switch {
		case errors.As(err, &nf):
			return inputErrorf("%v", err)
		case errors.Is(err, doctor.ErrLogoutInput):
			return inputErrorf("%s", strings.TrimPrefix(err.Error(), doctor.ErrLogoutInput.Error()+": "))
		}
		return err
	}
	if opts.Globals.JSON() {
		if err := writeJSON(opts.IO.Out, rep); err != nil {
			return err
		}
	} else {
		writeLogout(opts.IO, rep)
	}
	if rep.Failed() {
		return &ExitError{Code: ExitFindings}
	}
	return nil
}

// writeLogout lists each step of the probe with its verdict and evidence.
func writeLogout(ios *IOStreams, rep *doctor.LogoutReport) {
	th := ios.OutTheme()
	w := ios.Out
	fmt.Fprintf(w, "%s\n", th.Bold.Render(fmt.Sprintf("Single sign-out of %s in realm %s: log out of %s, and %s's session must end", rep.User, rep.Realm, rep.Clients[0], rep.Clients[1])))
	heading := false
	var fails, warns int
	for _, c := range rep.Checks {
		if strings.HasPrefix(c.ID, "logout.backchannel") && !heading {
			heading = true
			title := "Back channel"
			if rep.Backchannel != nil {
				title += " (receiver " + rep.Backchannel.Receiver + ")"
			}
			fmt.Fprintf(w, "%s\n", th.Bold.Render(title))
		}
		mark := th.OK.Render("OK  ")
		switch c.Status {
		case doctor.Warn:
			mark, warns = th.Warn.Render("WARN"), warns+1
		case doctor.Fail:
			mark, fails = th.Fail.Render("FAIL"), fails+1
		}
		fmt.Fprintf(w, "  %s %s %s\n", mark, c.Message, th.Muted.Render("["+c.ID+"]"))
		writeCheckDetail(w, "       ", c)
	}
	verdict := "single sign-out works"
	if fails > 0 {
		verdict = "single sign-out is broken"
	}
	fmt.Fprintf(w, "%d checks: %d failed, %d warnings: %s.\n", len(rep.Checks), fails, warns, verdict)
}
