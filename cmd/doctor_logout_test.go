package cmd

import (
	"encoding/json"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssoctl/ssoctl/inspect"
	"github.com/ssoctl/ssoctl/inspect/doctor"
)

func TestNewCmdDoctorLogout(t *testing.T) {
	env := map[string]string{"KEYCLOAK_URL": "http://kc.test"}
	base := []string{"--realm", "demo", "--user", "alice", "--client", "app-a", "--client", "app-b"}
	tests := []struct {
		name    string
		argv    []string
		wantErr string
		check   func(*doctorLogoutOptions) bool
	}{
		{"defaults", base, "", func(o *doctorLogoutOptions) bool {
			return o.URL == "http://kc.test" && o.Realm == "demo" && o.User == "alice" && slices.Equal(o.Clients, []string{"app-a", "app-b"}) &&
				o.Receiver == "" && o.Timeout == 10*time.Second
		}},
		{"receiver and timeout", append(base, "--receiver", "127.0.0.1:8790", "--timeout", "3s"), "", func(o *doctorLogoutOptions) bool {
			return o.Receiver == "127.0.0.1:8790" && o.Timeout == 3*time.Second
		}},
		{"receiver as a URL", append(base, "--receiver", "http://localhost:8790/backchannel"), "", func(o *doctorLogoutOptions) bool { return o.Receiver == "localhost:8790" }},
		{"receiver with no host", append(base, "--receiver", ":8790"), "", func(o *doctorLogoutOptions) bool { return o.Receiver == "127.0.0.1:8790" }},
		{"receiver as a bare port", append(base, "--receiver", "8790"), "", func(o *doctorLogoutOptions) bool { return o.Receiver == "127.0.0.1:8790" }},
		{"receiver as a URL with no host", append(base, "--receiver", "http://:8790/bc"), "", func(o *doctorLogoutOptions) bool { return o.Receiver == "127.0.0.1:8790" }},
		{"receiver on every interface, named", append(base, "--receiver", "0.0.0.0:8790"), "", func(o *doctorLogoutOptions) bool { return o.Receiver == "0.0.0.0:8790" }},
		{"receiver on every IPv6 interface, named", append(base, "--receiver", "[::]:8790"), "", func(o *doctorLogoutOptions) bool { return o.Receiver == "[::]:8790" }},
		{"receiver on IPv6 loopback", append(base, "--receiver", "[::1]:8790"), "", func(o *doctorLogoutOptions) bool { return o.Receiver == "[::1]:8790" }},
		{"receiver without a port", append(base, "--receiver", "127.0.0.1"), "want host:port", nil},
		{"receiver as a bare port out of range", append(base, "--receiver", "65536"), "from 1 to 65535", nil},
		{"receiver port 0", append(base, "--receiver", "127.0.0.1:0"), "B's backchannel logout URL must name it", nil},
		{"receiver https", append(base, "--receiver", "https://127.0.0.1:8790/"), "plain http", nil},
		{"no user", []string{"--realm", "demo", "--client", "a", "--client", "b"}, "--user is required", nil},
		{"one client", []string{"--realm", "demo", "--user", "alice", "--client", "a"}, "give --client twice", nil},
		{"three clients", append(base, "--client", "c"), "give --client twice", nil},
		{"same client twice", []string{"--realm", "demo", "--user", "alice", "--client", "a", "--client", "a"}, "must differ", nil},
		{"no realm", []string{"--user", "alice", "--client", "a", "--client", "b"}, "--realm", nil},
		{"bad timeout", append(base, "--timeout", "0s"), "--timeout must be positive", nil},
		{"extra argument", append(base, "extra"), "takes 0 argument(s)", nil},
	}
	for _, tt := range tests {
		got, err := parse(t, newDoctorLogoutCmd, env, tt.argv...)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCode(err) != ExitUsage {
				t.Errorf("%s: err %v, want %q (exit 2)", tt.name, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case !tt.check(got):
			t.Errorf("%s: options %+v", tt.name, got)
		}
	}
}

// doctor logout is a subcommand of doctor, and its failures exit as the
// README says: no password 2, an unreachable Keycloak 1, a receiver that
// cannot listen 1.
func TestDoctorLogoutExitCodes(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	env := map[string]string{"KEYCLOAK_URL": "http://127.0.0.1:1", "KEYCLOAK_ADMIN": "admin", "KEYCLOAK_ADMIN_PASSWORD": "pw"}
	args := []string{"doctor", "logout", "--realm", "demo", "--user", "alice", "--client", "a", "--client", "b"}
	run := func(env map[string]string, extra ...string) (int, string) {
		ios, _, _, errOut := TestIO()
		f := NewFactory(ios)
		f.Getenv = func(k string) string { return env[k] }
		return Run(f, append(slices.Clone(args), extra...)), errOut.String()
	}
	if code, stderr := run(env); code != ExitUsage || !strings.Contains(stderr, "no password") {
		t.Errorf("no password: exit %d %q", code, stderr)
	}
	env["SSOCTL_PASSWORD"] = "alice-pw"
	if code, stderr := run(env); code != ExitFailure || !strings.Contains(stderr, "127.0.0.1:1") || strings.Contains(stderr, "alice-pw") {
		t.Errorf("unreachable Keycloak: exit %d %q", code, stderr)
	}
	if code, stderr := run(env, "--receiver", busy.Addr().String()); code != ExitFailure || !strings.Contains(stderr, "cannot listen on") {
		t.Errorf("busy receiver port: exit %d %q", code, stderr)
	}
	if code, _ := run(env, "--receiver", "nope"); code != ExitUsage {
		t.Errorf("bad --receiver: exit %d", code)
	}
}

// fakeListener is a listener on addr that accepts nothing.
type fakeListener struct{ addr net.Addr }

func (l fakeListener) Accept() (net.Conn, error) { return nil, net.ErrClosed }
func (l fakeListener) Close() error              { return nil }
func (l fakeListener) Addr() net.Addr            { return l.addr }

// The receiver says on stderr when it listens on an address that is not
// loopback, and on every interface says so; on loopback it says nothing.
func TestListenReceiverSaysWhere(t *testing.T) {
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.1:8790", ""},
		{"[::1]:8790", ""},
		{"192.0.2.7:8790", "warning: the receiver listens on 192.0.2.7:8790, not on loopback: other machines can reach it\n"},
		{"0.0.0.0:8790", "warning: the receiver listens on 0.0.0.0:8790: every interface can reach it, other machines too\n"},
		{"[::]:8790", "warning: the receiver listens on [::]:8790: every interface can reach it, other machines too\n"},
	}
	for _, tt := range tests {
		ios, _, _, errOut := TestIO()
		var asked string
		opts := &doctorLogoutOptions{keycloakOptions: keycloakOptions{commonOptions: commonOptions{IO: ios}}, Receiver: tt.addr, Listen: func(network, addr string) (net.Listener, error) {
			asked = addr
			a, err := net.ResolveTCPAddr(network, addr)
			return fakeListener{a}, err
		}}
		if _, err := listenReceiver(opts); err != nil || asked != tt.addr {
			t.Fatalf("%s: %v (listened on %q)", tt.addr, err, asked)
		}
		if errOut.String() != tt.want {
			t.Errorf("%s: stderr %q, want %q", tt.addr, errOut.String(), tt.want)
		}
	}
}

// The JSON report's fields, as scripts read them.
func TestDoctorLogoutJSONFields(t *testing.T) {
	rep := &doctor.LogoutReport{Realm: "demo", User: "alice", Clients: []string{"a", "b"}, SID: "s",
		Checks: []doctor.Check{{ID: doctor.LogoutEndSession, System: "keycloak", Status: doctor.OK, Message: "m", Evidence: "e"}},
		Logout: &doctor.LogoutRequest{Endpoint: "http://kc/logout", PostLogoutRedirectURI: "http://a/bye", Millis: 12},
		Backchannel: &doctor.Backchannel{Receiver: "127.0.0.1:8790", URL: "http://127.0.0.1:8790/bc", TargetsReceiver: true, Received: true, Path: "/bc",
			AfterMillis: 7, DuringLogout: true, AnsweredBeforeLogout: true,
			Token: &inspect.LogoutTokenResult{Valid: true, Alg: "RS256", Kid: "k", Typ: "logout+jwt", Claims: map[string]any{"sid": "s"},
				Checks: []inspect.LogoutTokenCheck{{Rule: "signature", OK: true, Message: "m"}}}}}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(b, &doc)
	keys := func(m any) []string {
		var out []string
		for k := range m.(map[string]any) {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	for _, tt := range []struct {
		got  []string
		want string
	}{
		{keys(doc), "backchannel checks clients logout realm sid user"},
		{keys(doc["logout"]), "confirmed endpoint ms post_logout_redirect_uri"},
		{keys(doc["backchannel"]), "after_logout_start_ms answered_before_logout during_logout path received receiver targets_receiver token url"},
		{keys(doc["backchannel"].(map[string]any)["token"]), "alg checks claims kid typ valid"},
		{keys(doc["checks"].([]any)[0]), "evidence id message status system"},
	} {
		if got := strings.Join(tt.got, " "); got != tt.want {
			t.Errorf("fields %q, want %q", got, tt.want)
		}
	}
}

func TestWriteLogout(t *testing.T) {
	ios, _, out, _ := TestIO()
	rep := &doctor.LogoutReport{Realm: "demo", User: "alice", Clients: []string{"a", "b"}, Backchannel: &doctor.Backchannel{Receiver: "127.0.0.1:8790"},
		Checks: []doctor.Check{
			{ID: doctor.LogoutEndSession, Status: doctor.OK, Message: "RP-initiated logout ended the session", Evidence: "redirected"},
			{ID: doctor.LogoutBCURL, Status: doctor.Warn, Message: "the URL points elsewhere", Fix: "point it here", FixYAML: "keycloak:\n  clients: []\n"},
			{ID: doctor.LogoutBCReceived, Status: doctor.Fail, Message: "no logout token arrived"},
		}}
	writeLogout(ios, rep)
	want := `Single sign-out of alice in realm demo: log out of a, and b's session must end
  OK   RP-initiated logout ended the session [logout.end-session]
       seen: redirected
Back channel (receiver 127.0.0.1:8790)
  WARN the URL points elsewhere [logout.backchannel.url]
       fix:  point it here
       sso.yaml:
         keycloak:
           clients: []
  FAIL no logout token arrived [logout.backchannel.received]
3 checks: 1 failed, 1 warnings: single sign-out is broken.
`
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}
