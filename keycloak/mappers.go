package keycloak

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
)

// mappers plans the protocol mappers of one client of the file, matched by
// name. cur is the client as the realm has it, nil when it is to be created.
func (b *builder) mappers(d DesiredClient, cur *gocloak.Client) {
	have := map[string]gocloak.ProtocolMapperRepresentation{}
	if cur != nil {
		for _, m := range deref(cur.ProtocolMappers) {
			have[deref(m.Name)] = m
		}
	}
	for _, it := range plan.Reconcile(plan.Set[Mapper, gocloak.ProtocolMapperRepresentation]{
		Want: d.Mappers, Have: have,
		Name: func(m Mapper) string { return m.Name },
		Diff: mapperDiff,
	}) {
		label := d.ClientID + "/" + it.Name
		switch it.Action {
		case plan.Delete:
			if !b.d.Partial {
				b.extra(b.change("mapper", label, plan.Delete, stepPrune, nil, deleteMapper{d.ClientID, deref(it.Have.ID)}), mapperRef(d.ClientID, it.Name))
			}
			continue
		case plan.Create:
			m := it.Want
			fs := []plan.FieldDiff{{Field: "protocolMapper", New: m.ProtocolMapper}}
			for _, k := range slices.Sorted(maps.Keys(m.Config)) {
				fs = append(fs, plan.FieldDiff{Field: "config." + k, New: m.Config[k]})
			}
			b.p.Add(b.change("mapper", label, plan.Create, stepClientParts, fs, createMapper{d.ClientID, m}))
		case plan.Update:
			b.p.Add(b.change("mapper", label, plan.Update, stepClientParts, it.Fields, updateMapper{
				ClientID: d.ClientID, ID: deref(it.Have.ID), Mapper: it.Want,
				// A mapper's provider cannot change in place: replace it.
				Replace: deref(it.Have.ProtocolMapper) != it.Want.ProtocolMapper}))
		default:
			b.p.Add(b.change("mapper", label, plan.NoOp, stepClientParts, nil, nil))
		}
		b.name(mapperRef(d.ClientID, it.Name))
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

// createMapper adds a mapper to a client (which may be new in this apply).
type createMapper struct {
	ClientID string
	Mapper   Mapper
}

func (o createMapper) apply(ctx context.Context, x *executor) error {
	models, err := x.mapperModels(ctx, o.ClientID)
	if err != nil {
		return err
	}
	_, err = x.a.do(ctx, http.MethodPost, models, mapperBody(o.Mapper), nil)
	if IsConflict(err) {
		return fmt.Errorf("mapper %q appeared on client %q while applying; run apply again to adopt it: %w", o.Mapper.Name, o.ClientID, err)
	}
	return err
}

// updateMapper rewrites a mapper in place, or deletes and re-creates it
// when its provider changes.
type updateMapper struct {
	ClientID, ID string
	Mapper       Mapper
	Replace      bool
}

func (o updateMapper) apply(ctx context.Context, x *executor) error {
	models, err := x.mapperModels(ctx, o.ClientID)
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

type deleteMapper struct{ ClientID, ID string }

func (o deleteMapper) apply(ctx context.Context, x *executor) error {
	models, err := x.mapperModels(ctx, o.ClientID)
	if err != nil {
		return err
	}
	return ignoreNotFound(x.a.do(ctx, http.MethodDelete, models+"/"+esc(o.ID), nil, nil))
}

// mapperModels is the path of a client's protocol mappers.
func (x *executor) mapperModels(ctx context.Context, clientID string) (string, error) {
	uuid, err := x.clientUUID(ctx, clientID)
	if err != nil {
		return "", err
	}
	return x.path("clients", esc(uuid), "protocol-mappers", "models"), nil
}
