package plan

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ssoctl/ssoctl/internal/golden"
)

func TestReconcile(t *testing.T) {
	type obj struct{ name, value string }
	have := map[string]string{"same": "1", "changed": "old", "owned-extra": "x", "hand-made": "y", "builtin": "z"}
	items := Reconcile(Set[obj, string]{
		Want:   []obj{{"new", "n"}, {"same", "1"}, {"changed", "new"}},
		Have:   have,
		Name:   func(o obj) string { return o.name },
		Diff:   func(o obj, h string) []FieldDiff { return Diff(nil, "value", h, o.value) },
		Ignore: func(name, _ string) bool { return name == "builtin" },
		Owned:  func(name string) bool { return name == "owned-extra" },
	})
	var got []string
	for _, it := range items {
		s := string(it.Action) + " " + it.Name
		if it.Owned {
			s += " (owned)"
		}
		if it.Exists {
			s += " exists"
		}
		got = append(got, s)
	}
	want := []string{"create new", "no-op same exists", "update changed exists", "delete hand-made exists", "delete owned-extra (owned) exists"}
	if !slices.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if f := items[2].Fields; len(f) != 1 || f[0].Old != "old" || f[0].New != "new" {
		t.Errorf("fields %+v", f)
	}
	// Without Diff, existing objects are kept; without Owned, nothing is.
	plain := Reconcile(Set[string, bool]{Want: []string{"a"}, Have: map[string]bool{"a": true, "b": true}, Name: func(s string) string { return s }})
	if plain[0].Action != NoOp || plain[1].Action != Delete || plain[1].Owned {
		t.Errorf("%+v", plain)
	}
}

func TestIDs(t *testing.T) {
	x := NewIDs()
	r := Ref{Kind: "client-role", Scope: "vault", Name: "reader"}
	if _, ok := x.Get(r); ok {
		t.Fatal("empty registry")
	}
	x.Set(r, "id-1")
	x.Set(Ref{Kind: "client", Name: "x"}, "")
	if id, ok := x.Get(r); !ok || id != "id-1" {
		t.Errorf("get %q %v", id, ok)
	}
	if _, ok := x.Get(Ref{Kind: "client", Name: "x"}); ok {
		t.Error("an empty id is not an id")
	}
	if r.String() != "client-role vault/reader" || (Ref{Kind: "client", Name: "x"}).String() != "client x" {
		t.Errorf("strings %q", r.String())
	}
}

func TestOwnedRoundTrip(t *testing.T) {
	o := Owned{{"client", "", "vault"}: true, {"mapper", "vault", "audience vault"}: true, {"group-client-role", "g", "c\nr"}: true}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), `[["client","","vault"]`) {
		t.Errorf("sorted by kind: %s", b)
	}
	var back Owned
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(o) {
		t.Fatalf("round trip: %v %v", back, err)
	}
	if err := json.Unmarshal([]byte(`[["client","x"]]`), &back); err == nil {
		t.Error("a row of two must fail")
	}
	if err := json.Unmarshal([]byte(`{}`), &back); err == nil {
		t.Error("an object must fail")
	}
	u := o.Union(Owned{{"client", "", "other"}: true})
	if len(u) != 4 || len(o) != 3 || u.Equal(o) || !u.Has(Ref{"client", "", "other"}) {
		t.Errorf("union %v", u)
	}
	if (Owned{{"a", "", "b"}: true}).Equal(Owned{{"a", "", "c"}: true}) {
		t.Error("different sets of one compare equal")
	}
}

func TestExtrasPrunableAndBind(t *testing.T) {
	p := &Plan{}
	p.AddExtra(NewChange("keycloak", PhaseKeycloak, 200, "client", "demo/old", Delete, nil, "delete-old"), true)
	p.AddExtra(NewChange("keycloak", PhaseKeycloak, 200, "client", "demo/theirs", Delete, nil, "delete-theirs"), false)
	p.AfterPrune = append(p.AfterPrune, NewChange("keycloak", PhaseKeycloak, 210, "ownership-record", "demo", Update, nil, "record"))
	p.Add(NewChange("keycloak", PhaseKeycloak, 2, "client", "demo/kept", NoOp, nil, "ignored"))
	if p.Changes[0].Op != nil {
		t.Error("a no-op carries no operation")
	}
	if len(p.Prunable) != 1 || len(p.Unmanaged) != 1 || p.Unmanaged[0] != (Object{System: "keycloak", Kind: "client", Name: "demo/theirs"}) {
		t.Fatalf("prunable %v unmanaged %v", p.Prunable, p.Unmanaged)
	}
	var ran []any
	p.Bind("keycloak", func(_ context.Context, c *Change) error { ran = append(ran, c.Op); return nil })
	p.Bind("vault", func(context.Context, *Change) error { return errors.New("wrong system") })
	if p.HasChanges() {
		t.Error("prunable deletions are not changes until --prune")
	}
	p.IncludePrunable()
	if err := p.Execute(context.Background(), 2, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ran, []any{"delete-old", "record"}) {
		t.Errorf("ran %v", ran)
	}
	other := &Plan{Warnings: []string{"w"}, Unmanaged: []Object{{System: "vault", Kind: "role", Name: "jwt/x"}}, Prunable: []*Change{{Kind: "role"}}, AfterPrune: []*Change{{Kind: "r"}}}
	other.Add(&Change{Kind: "policy"})
	p.Merge(other)
	if len(p.Warnings) != 1 || len(p.Unmanaged) != 2 || len(p.Prunable) != 1 || len(p.AfterPrune) != 1 || p.Changes[len(p.Changes)-1].Kind != "policy" {
		t.Errorf("merge: %+v", p)
	}
}

func TestExecuteOrdersPhasesBeforeSteps(t *testing.T) {
	var log []string
	mk := func(name string, ph Phase, step int) *Change {
		return &Change{Name: name, Action: Create, Phase: ph, Step: step, Apply: func(context.Context) error { log = append(log, name); return nil }}
	}
	p := &Plan{}
	p.Add(mk("vault-0", PhaseVault, 0), mk("keycloak-prune", PhaseKeycloak, 200), mk("keycloak-0", PhaseKeycloak, 0))
	if err := p.Execute(context.Background(), 1, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(log, []string{"keycloak-0", "keycloak-prune", "vault-0"}) {
		t.Errorf("order %v", log)
	}
	if PhaseKeycloak.String() != "keycloak" || PhaseVault.String() != "vault" || Phase(0).String() != "phase?" {
		t.Error("phase names")
	}
}

func TestMissingSecretError(t *testing.T) {
	e := &MissingSecretError{Object: "user alice", Env: "ALICE_PASSWORD"}
	if e.Error() != "user alice needs $ALICE_PASSWORD, which is not set" || !e.BadInput() {
		t.Errorf("%q", e.Error())
	}
	e.Hint = "or pass it on stdin"
	if !strings.HasSuffix(e.Error(), "; or pass it on stdin") {
		t.Errorf("%q", e.Error())
	}
}

func TestDiffSet(t *testing.T) {
	if d := DiffSet(nil, "uris", []string{"b", "a", "a"}, []string{"a", "b"}); len(d) != 0 {
		t.Errorf("order and duplicates do not matter: %v", d)
	}
	if d := DiffSet(nil, "uris", []string{"a"}, []string{"b", "a"}); len(d) != 1 || !slices.Equal(d[0].New.([]string), []string{"a", "b"}) {
		t.Errorf("%v", d)
	}
}

// samplePlan has one change of every action, secrets, a policy text, the
// deletions only --prune makes, unmanaged objects and a warning.
func samplePlan() *Plan {
	p := &Plan{}
	p.Add(
		NewChange("keycloak", PhaseKeycloak, 0, "realm", "demo", Create, []FieldDiff{{Field: "enabled", New: true}}, "op"),
		NewChange("keycloak", PhaseKeycloak, 2, "client", "demo/vault", Update, []FieldDiff{
			{Field: "redirectUris", Old: []string{"http://a"}, New: []string{"http://a", "http://b"}},
			{Field: "description", Old: nil, New: "Vault"}}, "op"),
		NewChange("keycloak", PhaseKeycloak, 101, "user", "demo/alice", Create, []FieldDiff{
			{Field: "username", New: "alice"}, {Field: "password", New: "alice-Pw-1", Secret: true}}, "op"),
		NewChange("keycloak", PhaseKeycloak, 3, "mapper", "demo/vault/groups", NoOp, nil, nil),
		NewChange("vault", PhaseVault, 0, "policy", "reader", Update, []FieldDiff{
			{Field: "policy", Old: "path \"a\" {\n  capabilities = [\"read\"]\n}\n", New: "path \"b\" {\n  capabilities = [\"read\"]\n}\n"}}, "op"),
		NewChange("vault", PhaseVault, 1, "auth-config", "oidc", Update, []FieldDiff{
			{Field: "oidc_client_secret", Old: "0123456789abcdefghijkXYZ", New: "zyxwvutsrqponmlkjihg9876", Secret: true}}, "op"),
		NewChange("vault", PhaseVault, 10, "role", "jwt/old", Delete, []FieldDiff{{Field: "token_ttl", Old: 3600}}, "op"),
	)
	p.AddExtra(NewChange("keycloak", PhaseKeycloak, 200, "client", "demo/old-app", Delete, nil, "op"), true)
	p.AddExtra(NewChange("keycloak", PhaseKeycloak, 200, "client", "demo/made-by-hand", Delete, nil, "op"), false)
	p.Changes[1].Note = "needed by django site brewery (social-auth)"
	p.Warn("vault.auth %q group %q: alias %q never matches", "jwt", "ops", "/ops")
	return p
}

func TestWriteTextGolden(t *testing.T) {
	var b strings.Builder
	if err := samplePlan().WriteText(&b, RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "plan.golden", []byte(b.String()))
	b.Reset()
	samplePlan().WriteText(&b, RenderOptions{ShowSecrets: true, Style: func(role, s string) string { return "<" + role + ">" + s }})
	golden.Assert(t, "plan-styled-secrets.golden", []byte(b.String()))
}

func TestJSONGolden(t *testing.T) {
	out, err := json.MarshalIndent(samplePlan().JSON(false), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "plan.json.golden", append(out, '\n'))
	empty, _ := json.Marshal((&Plan{}).JSON(false))
	if !strings.Contains(string(empty), `"unmanaged":[]`) || !strings.Contains(string(empty), `"prunable":null`) && !strings.Contains(string(empty), `"prunable":[]`) {
		t.Errorf("empty plan: %s", empty)
	}
}
