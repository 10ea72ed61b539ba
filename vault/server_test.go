package vault

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestServerFlavor(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{`{"version":"1.19.0","build_date":"2025-12-02T03:10:45Z","sealed":false}`, "Vault 1.19.0 at "},
		{`{"version":"2.7.2","commit_date":"2026-10-26T20:32:27Z","sealed":false}`, "OpenBao 2.7.2 at "},
		{`{"version":"1.2.3"}`, "Vault 1.2.3 at "},
	} {
		var calls int
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			if r.URL.Path != "/v1/sys/seal-status" {
				w.WriteHeader(http.StatusForbidden)
				w.Write([]byte(`{"errors":["permission denied"]}`))
				return
			}
			w.Write([]byte(tt.body))
		}))
		c, _ := Connect(Config{Addr: srv.URL, Token: "t"})
		s, err := c.Server(context.Background())
		if err != nil || s.String() != tt.want+srv.URL {
			t.Errorf("%s: %q %v", tt.body, s.String(), err)
		}
		c.Server(context.Background())
		if calls != 1 {
			t.Errorf("read %d times, want once", calls)
		}
		// Messages name the server by its flavour.
		_, err = c.read(context.Background(), "auth/x")
		if err == nil || !strings.HasPrefix(err.Error(), strings.Fields(tt.want)[0]+" at ") {
			t.Errorf("error names %v", err)
		}
		srv.Close()
	}
}
