package plan

import (
	"encoding/json"
	"testing"
)

func TestRecordJSON(t *testing.T) {
	rec := Record{{Kind: "client", Name: "shop"}: "shop-site", {Kind: "group", Name: "old"}: "", {Kind: "mapper", Scope: "shop", Name: "m"}: "shop-site"}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	// An unowned entry keeps the three columns that ssoctl before owners
	// wrote and reads.
	if want := `[["client","","shop","shop-site"],["group","","old"],["mapper","shop","m","shop-site"]]`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var back Record
	if err := json.Unmarshal(b, &back); err != nil || !back.Equal(rec) {
		t.Errorf("round trip: %v %v", back, err)
	}
	for _, bad := range []string{`[["a","b"]]`, `[["a","b","c","d","e"]]`, `{"a":1}`} {
		if err := json.Unmarshal([]byte(bad), &back); err == nil {
			t.Errorf("%s is read", bad)
		}
	}
}

func TestRecordWith(t *testing.T) {
	a, b, c := Ref{Kind: "client", Name: "a"}, Ref{Kind: "client", Name: "b"}, Ref{Kind: "client", Name: "c"}
	rec := Record{a: "shop", b: "blog", c: ""}
	// shop now owns c (it named an unowned object) and no longer a.
	got := rec.With("shop", Owned{c: true})
	if want := (Record{b: "blog", c: "shop"}); !got.Equal(want) {
		t.Errorf("With: %v, want %v", got, want)
	}
	if rec[a] != "shop" {
		t.Error("With changed its receiver")
	}
	if of := rec.Of("blog"); len(of) != 1 || !of[b] {
		t.Errorf("Of: %v", of)
	}
	if (Record{a: "x"}).Equal(Record{a: "y"}) || (Record{a: "x"}).Equal(Record{b: "x"}) {
		t.Error("Equal ignores owners or refs")
	}
}

func TestClaimant(t *testing.T) {
	c := Claimant{Owner: "shop", AdoptFrom: []string{"blog"}}
	for _, tt := range []struct {
		o               string
		prunes, refuses bool
	}{{"shop", true, false}, {"", false, false}, {"blog", false, false}, {"wiki", false, true}} {
		if c.Prunes(tt.o) != tt.prunes || c.Refuses(tt.o) != tt.refuses {
			t.Errorf("%q: prunes %v refuses %v", tt.o, c.Prunes(tt.o), c.Refuses(tt.o))
		}
	}
	if !(Claimant{AdoptFrom: []string{Unowned}}).Prunes("") || (Claimant{Owner: "x"}).Prunes("") {
		t.Error("unowned objects are the file's to prune only when it adopts them")
	}
	msg := c.Conflict("objects", []string{"a (owned by wiki)", "b", "c", "d", "e", "f", "g"}, []string{"wiki", "docs", "wiki"})
	want := "this file (owner shop) declares objects that another file owns: a (owned by wiki), b, c, d, e, and 2 more; declare each in one file only, or move them to this one with adopt_from: [docs, wiki]"
	if msg != want {
		t.Errorf("got  %s\nwant %s", msg, want)
	}
}
