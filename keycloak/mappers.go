package keycloak

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
)

// owner is what protocol mappers belong to: a client (by clientId) or a
// client scope (by name).
type owner struct {
	Scope bool
	Name  string
}

func clientOwner(clientID string) owner { return owner{Name: clientID} }
func scopeOwner(name string) owner      { return owner{Scope: true, Name: name} }

// ref names one of the owner's mappers.
func (o owner) ref(mapper string) plan.Ref {
	if o.Scope {
		return plan.Ref{Kind: "scope-mapper", Scope: o.Name, Name: mapper}
	}
	return mapperRef(o.Name, mapper)
}

// label is how a mapper of the owner is shown in a plan.
func (o owner) label(mapper string) string {
	if o.Scope {
		return "scope " + o.Name + "/" + mapper
	}
	return o.Name + "/" + mapper
}

// mappers plans the protocol mappers of one client of the file, matched by
// name. cur is the client as the realm has it, nil when it is to be created.
func (b *builder) mappers(d DesiredClient, cur *gocloak.Client) {
	var have []gocloak.ProtocolMapperRepresentation
	if cur != nil {
		have = deref(cur.ProtocolMappers)
	}
	b.mapperSet(clientOwner(d.ClientID), d.Mappers, have, nil, false)
}

// mapperSet plans an owner's mappers against the ones it has. adopted, when
// set, says which existing mappers the file only adopts (a built-in
// scope's): they are not recorded as ssoctl's, so they are never pruned.
// upsert is for a built-in scope of a realm this plan creates: its mappers
// exist once the realm does, and creating one of the same name updates it.
func (b *builder) mapperSet(o owner, want []Mapper, cur []gocloak.ProtocolMapperRepresentation, adopted func(name string) bool, upsert bool) {
	have := map[string]gocloak.ProtocolMapperRepresentation{}
	for _, m := range cur {
		have[deref(m.Name)] = m
	}
	for _, it := range plan.Reconcile(plan.Set[Mapper, gocloak.ProtocolMapperRepresentation]{
		Want: want, Have: have,
		Name: func(m Mapper) string { return m.Name },
		Diff: mapperDiff,
	}) {
		label := o.label(it.Name)
		switch it.Action {
		case plan.Delete:
			// A declared client's (or scope's) mappers are the file's
			// list: an owned one it no longer names goes without --prune.
			del := deleteMapper{o, deref(it.Have.ID)}
			kind := "client"
			if o.Scope {
				kind = "client-scope"
			}
			b.drop(o.ref(it.Name), b.change(kind, o.Name, plan.Update, stepPrune, []plan.FieldDiff{{Field: "mappers", Old: it.Name}}, del),
				b.change("mapper", label, plan.Delete, stepPrune, nil, del))
			continue
		case plan.Create:
			m := it.Want
			fs := []plan.FieldDiff{{Field: "protocolMapper", New: m.ProtocolMapper}}
			for _, k := range slices.Sorted(maps.Keys(m.Config)) {
				fs = append(fs, plan.FieldDiff{Field: "config." + k, New: m.Config[k]})
			}
			b.p.Add(b.change("mapper", label, plan.Create, stepClientParts, fs, createMapper{o, m, upsert}))
		case plan.Update:
			b.p.Add(b.change("mapper", label, plan.Update, stepClientParts, it.Fields, updateMapper{
				Owner: o, ID: deref(it.Have.ID), Mapper: it.Want,
				// A mapper's provider cannot change in place: replace it.
				Replace: deref(it.Have.ProtocolMapper) != it.Want.ProtocolMapper}))
		default:
			b.p.Add(b.change("mapper", label, plan.NoOp, stepClientParts, nil, nil))
		}
		switch {
		case (it.Action == plan.Create && !upsert) || adopted == nil || !adopted(it.Name):
			b.name(o.ref(it.Name))
		default:
			// Recorded apart: exported, never pruned.
			b.name(plan.Ref{Kind: adoptedScopeMapper, Scope: o.Name, Name: it.Name})
		}
	}
}

// mapperDiff compares a mapper's provider and every config key, both ways:
// a key the realm has and the file does not is a difference too.
func mapperDiff(m Mapper, cur gocloak.ProtocolMapperRepresentation) []plan.FieldDiff {
	var fs []plan.FieldDiff
	fs = plan.Diff(fs, "protocolMapper", deref(cur.ProtocolMapper), m.ProtocolMapper)
	have := deref(cur.Config)
	keys := maps.Clone(m.Config)
	if keys == nil {
		keys = map[string]string{}
	}
	maps.Copy(keys, have)
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		hv, hok := have[k]
		wv, wok := m.Config[k]
		if hv != wv || hok != wok {
			var old, nw any
			if hok {
				old = hv
			}
			if wok {
				nw = wv
			}
			fs = append(fs, plan.FieldDiff{Field: "config." + k, Old: old, New: nw})
		}
	}
	return fs
}

// mapperBody renders a mapper for the admin API. It never carries an id:
// Keycloak 26 rejects non-UUID ids and assigns its own.
func mapperBody(m Mapper) map[string]any {
	return map[string]any{"name": m.Name, "protocol": m.Protocol, "protocolMapper": m.ProtocolMapper, "consentRequired": false, "config": m.Config}
}

// createMapper adds a mapper to a client or scope (which may be new in
// this apply).
type createMapper struct {
	Owner  owner
	Mapper Mapper
	// Upsert updates the mapper of the same name when there is one.
	Upsert bool
}

func (o createMapper) apply(ctx context.Context, x *executor) error {
	models, err := x.mapperModels(ctx, o.Owner)
	if err != nil {
		return err
	}
	_, err = x.a.do(ctx, http.MethodPost, models, mapperBody(o.Mapper), nil)
	if IsConflict(err) && o.Upsert {
		var have []gocloak.ProtocolMapperRepresentation
		if err := x.a.get(ctx, models, &have); err != nil {
			return err
		}
		for _, m := range have {
			if deref(m.Name) == o.Mapper.Name {
				return updateMapper{Owner: o.Owner, ID: deref(m.ID), Mapper: o.Mapper, Replace: deref(m.ProtocolMapper) != o.Mapper.ProtocolMapper}.apply(ctx, x)
			}
		}
	}
	if IsConflict(err) {
		return fmt.Errorf("mapper %q appeared on %s while applying; run apply again to adopt it: %w", o.Mapper.Name, o.Owner, err)
	}
	return err
}

// updateMapper rewrites a mapper in place, or deletes and re-creates it
// when its provider changes.
type updateMapper struct {
	Owner   owner
	ID      string
	Mapper  Mapper
	Replace bool
}

func (o updateMapper) apply(ctx context.Context, x *executor) error {
	models, err := x.mapperModels(ctx, o.Owner)
	if err != nil {
		return err
	}
	if o.Replace {
		if err := ignoreNotFound(x.a.do(ctx, http.MethodDelete, models+"/"+esc(o.ID), nil, nil)); err != nil {
			return err
		}
		_, err := x.a.do(ctx, http.MethodPost, models, mapperBody(o.Mapper), nil)
		return err
	}
	body := mapperBody(o.Mapper)
	body["id"] = o.ID
	_, err = x.a.do(ctx, http.MethodPut, models+"/"+esc(o.ID), body, nil)
	return err
}

type deleteMapper struct {
	Owner owner
	ID    string
}

func (o deleteMapper) apply(ctx context.Context, x *executor) error {
	models, err := x.mapperModels(ctx, o.Owner)
	if err != nil {
		return err
	}
	return ignoreNotFound(x.a.do(ctx, http.MethodDelete, models+"/"+esc(o.ID), nil, nil))
}

// String names the owner in messages.
func (o owner) String() string {
	if o.Scope {
		return "client scope " + strconv.Quote(o.Name)
	}
	return "client " + strconv.Quote(o.Name)
}

// mapperModels is the path of a client's or scope's protocol mappers.
func (x *executor) mapperModels(ctx context.Context, o owner) (string, error) {
	if o.Scope {
		id, err := x.scopeID(ctx, o.Name)
		if err != nil {
			return "", err
		}
		return x.path("client-scopes", esc(id), "protocol-mappers", "models"), nil
	}
	uuid, err := x.clientUUID(ctx, o.Name)
	if err != nil {
		return "", err
	}
	return x.path("clients", esc(uuid), "protocol-mappers", "models"), nil
}
