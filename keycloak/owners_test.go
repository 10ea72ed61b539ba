package keycloak

import (
	"strings"
	"testing"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
	"github.com/ssoctl/ssoctl/spec"
)

// ownedBy makes st's record: what the demo file names, owned by owner,
// and the extra objects given.
func ownedBy(t *testing.T, d *Desired, st *State, owner string, extra plan.Record) {
	t.Helper()
	st.Record = plan.Record{}
	for r := range named(t, d) {
		st.Record[r] = owner
	}
	for r, o := range extra {
		st.Record[r] = o
	}
}

func TestDiffLeavesOtherOwnersAlone(t *testing.T) {
	d := demoDesired(t)
	d.Owner = "shop"
	st := stateFor(t, d)
	st.Clients["blog"] = &gocloak.Client{ID: ptr("uuid-blog"), ClientID: ptr("blog"), Protocol: ptr(spec.ProtocolOIDC)}
	st.Clients["legacy"] = &gocloak.Client{ID: ptr("uuid-legacy"), ClientID: ptr("legacy"), Protocol: ptr(spec.ProtocolOIDC)}
	st.Users["alice"].Groups = append(st.Users["alice"].Groups, "blog-readers")
	st.Groups["blog-readers"] = &Group{ID: "g-br", Path: "blog-readers"}
	ownedBy(t, d, st, "shop", plan.Record{clientRef("blog"): "blog", clientRef("legacy"): "",
		groupRef("blog-readers"): "blog", userGroupRef("alice", "blog-readers"): "blog"})
	p := mustDiff(t, d, st)
	if p.HasChanges() || len(p.Prunable) != 0 {
		t.Fatalf("another owner's objects are not this file's: %s, prunable %s", describe(written(p.Changes)), describe(p.Prunable))
	}
	got := map[string]string{}
	for _, o := range p.Unmanaged {
		got[o.Kind+" "+o.Name] = o.Owner
	}
	want := map[string]string{"client demo/blog": "blog", "client demo/legacy": plan.Unowned, "group demo/blog-readers": "blog", "user-group demo/alice in blog-readers": "blog"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: owner %q, want %q (all: %v)", k, got[k], v, got)
		}
	}

	// adopt_from: [unowned] makes the unowned client this file's to prune.
	d.AdoptFrom = []string{plan.Unowned}
	p = mustDiff(t, d, st)
	if len(p.Prunable) != 1 || p.Prunable[0].Name != "demo/legacy" {
		t.Errorf("adopting the unowned: prunable %s", describe(p.Prunable))
	}
}

func TestDiffRefusesAnotherOwnersObject(t *testing.T) {
	d := demoDesired(t)
	d.Owner = "blog"
	st := stateFor(t, d)
	ownedBy(t, d, st, "shop", nil)
	_, err := Diff(d, st, DiffOptions{})
	var ie *InputError
	if !asError(err, &ie) || ie.Key != "owner" || !ie.BadInput() {
		t.Fatalf("want an input error about owner:, got %v", err)
	}
	for _, want := range []string{"this file (owner blog)", "client vault (owned by shop)", "and ", "more", "adopt_from: [shop]"} {
		if !strings.Contains(ie.Msg, want) {
			t.Errorf("the error lacks %q: %s", want, ie.Msg)
		}
	}
	// The fix it names works: the objects move to blog.
	d.AdoptFrom = []string{"shop"}
	p := mustDiff(t, d, st)
	rec := find(t, p.Changes, "ownership-record", "").Op.(writeRecord)
	if rec.Owner != "blog" || !rec.Mine.Has(clientRef("vault")) || rec.AdoptFrom[0] != "shop" {
		t.Errorf("adopting: %+v", rec)
	}
	if moved := st.Record.With(rec.Owner, rec.Mine); moved[clientRef("vault")] != "blog" {
		t.Errorf("after the write the client is %q's", moved[clientRef("vault")])
	}
}

func TestWriteRecordRefusesAnObjectClaimedMeanwhile(t *testing.T) {
	w := writeRecord{Claimant: plan.Claimant{Owner: "blog"}, Mine: plan.Owned{clientRef("x"): true}}
	if err := w.claimedMeanwhile("demo", plan.Record{clientRef("x"): "shop"}); err == nil || !strings.Contains(err.Error(), "just recorded by owner shop") {
		t.Errorf("got %v", err)
	}
	for _, rec := range []plan.Record{{clientRef("x"): ""}, {clientRef("x"): "blog"}, {}} {
		if err := w.claimedMeanwhile("demo", rec); err != nil {
			t.Errorf("%v: %v", rec, err)
		}
	}
	w.AdoptFrom = []string{"shop"}
	if err := w.claimedMeanwhile("demo", plan.Record{clientRef("x"): "shop"}); err != nil {
		t.Errorf("adopted: %v", err)
	}
}

// A parent group that a file only implies may be another owner's: no
// conflict, and it stays that owner's.
func TestDiffImpliedParentOfAnotherOwner(t *testing.T) {
	d := demoDesired(t)
	d.Owner = "blog"
	d.Groups = []spec.Group{{Name: "sites/blog"}}
	st := stateFor(t, d)
	st.Groups["sites"] = &Group{ID: "g-sites", Path: "sites"}
	st.Groups["sites/blog"] = &Group{ID: "g-sb", Path: "sites/blog"}
	ownedBy(t, d, st, "blog", plan.Record{groupRef("sites"): "shop", groupRef("sites/blog"): ""})
	p := mustDiff(t, d, st)
	rec := find(t, p.Changes, "ownership-record", "").Op.(writeRecord)
	if rec.Mine.Has(groupRef("sites")) || !rec.Mine.Has(groupRef("sites/blog")) {
		t.Errorf("blog records %v", rec.Mine.Sorted())
	}
	// Declared, the parent is a conflict.
	d.Groups = append(d.Groups, spec.Group{Name: "sites"})
	if _, err := Diff(d, st, DiffOptions{}); err == nil || !strings.Contains(err.Error(), "group sites (owned by shop)") {
		t.Errorf("a declared parent of another owner: %v", err)
	}
}
