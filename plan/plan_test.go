package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestExecuteStagesInOrder(t *testing.T) {
	var mu sync.Mutex
	var log []string
	mk := func(name string, stage int) *Change {
		return &Change{System: "keycloak", Kind: "x", Name: name, Action: Create, Phase: PhaseKeycloak, Step: stage, Apply: func(context.Context) error {
			mu.Lock()
			log = append(log, name)
			mu.Unlock()
			return nil
		}}
	}
	p := &Plan{}
	p.Add(mk("c", 2), mk("a1", 1), mk("b", 1), &Change{Name: "noop", Action: NoOp}, mk("z", 0))
	var done int
	if err := p.Execute(context.Background(), 4, func(Result) { done++ }); err != nil {
		t.Fatal(err)
	}
	if done != 4 || log[0] != "z" || log[3] != "c" {
		t.Fatalf("order = %v (done %d)", log, done)
	}
}

func TestExecuteStopsAfterFailedStage(t *testing.T) {
	var later atomic.Bool
	boom := errors.New("409 Conflict: Client x already exists")
	p := &Plan{}
	p.Add(
		&Change{Kind: "client", Name: "a", Action: Create, Phase: PhaseKeycloak, Step: 1, Apply: func(context.Context) error { return boom }},
		&Change{Kind: "client", Name: "b", Action: Create, Phase: PhaseKeycloak, Step: 1, Apply: func(context.Context) error { return nil }},
		&Change{Kind: "mapper", Name: "m", Action: Create, Phase: PhaseKeycloak, Step: 2, Apply: func(context.Context) error { later.Store(true); return nil }},
	)
	err := p.Execute(context.Background(), 2, nil)
	var ae *ApplyError
	if !errors.As(err, &ae) || len(ae.Failed) != 1 || ae.Applied != 1 {
		t.Fatalf("err = %v", err)
	}
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("cause lost: %v", err)
	}
	if later.Load() {
		t.Fatal("a later stage ran after a failure")
	}
}

func TestExecuteHonoursCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ran atomic.Int32
	p := &Plan{}
	for i := 0; i < 10; i++ {
		p.Add(&Change{Name: "n", Action: Create, Phase: PhaseKeycloak, Step: i, Apply: func(context.Context) error {
			if ran.Add(1) == 3 {
				cancel()
			}
			return nil
		}})
	}
	err := p.Execute(ctx, 1, nil)
	if !errors.Is(err, context.Canceled) || ran.Load() != 3 {
		t.Fatalf("err = %v after %d changes", err, ran.Load())
	}
}

func TestRenderMasksSecrets(t *testing.T) {
	p := &Plan{}
	p.Add(&Change{System: "vault", Kind: "auth-config", Name: "oidc", Action: Update, Fields: []FieldDiff{
		{Field: "oidc_client_secret", Old: "0123456789abcdefghijkXYZ", New: "zyxwvutsrqponmlkjihg9876", Secret: true},
		{Field: "default_role", Old: "a", New: "b"},
	}})
	p.Add(&Change{System: "keycloak", Kind: "client", Name: "vault", Action: NoOp})
	var out bytes.Buffer
	p.WriteText(&out, RenderOptions{})
	s := out.String()
	if strings.Contains(s, "0123456789abcdefghijkXYZ") || !strings.Contains(s, "0123…kXYZ -> zyxw…9876") {
		t.Fatalf("text:\n%s", s)
	}
	if !strings.Contains(s, `default_role: "a" -> "b"`) || !strings.Contains(s, "Plan: 0 to create, 1 to update, 0 to delete, 1 unchanged.") {
		t.Fatalf("text:\n%s", s)
	}
	b, _ := json.Marshal(p.JSON(false))
	if strings.Contains(string(b), "0123456789abcdefghijkXYZ") || !strings.Contains(string(b), `"action":"update"`) || !strings.Contains(string(b), `"no-op":1`) {
		t.Fatalf("json: %s", b)
	}
	if p.Changes[0].Fields[0].Old != "0123456789abcdefghijkXYZ" {
		t.Fatal("JSON() must not modify the plan")
	}
	b, _ = json.Marshal(p.JSON(true))
	if !strings.Contains(string(b), "0123456789abcdefghijkXYZ") {
		t.Fatalf("--show-secrets json: %s", b)
	}
}

func TestDiffTreatsEmptyAsNil(t *testing.T) {
	if d := Diff(nil, "x", []string(nil), []string{}); len(d) != 0 {
		t.Fatalf("nil vs empty slice differ: %v", d)
	}
	if d := Diff(nil, "x", "", nil); len(d) != 0 {
		t.Fatalf("empty string vs nil differ: %v", d)
	}
	if d := Diff(nil, "x", []string{"a"}, []string{"b"}); len(d) != 1 {
		t.Fatalf("want one diff, got %v", d)
	}
}
