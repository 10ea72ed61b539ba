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
