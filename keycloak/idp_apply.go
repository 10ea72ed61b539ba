package keycloak

import (
	"context"
	"maps"
	"net/http"
)

// saveIdP creates a provider (Create) or updates it in place: Body is the
// whole representation, config.clientSecret at Keycloak's mask unless
// Secret is sent. Sending a secret also stores its fingerprint, under the
// record's lock (withAttributes). A no-op (Body nil) sends nothing.
type saveIdP struct {
	Alias  string
	Body   map[string]any
	Create bool
	Secret string
}

func (o saveIdP) apply(ctx context.Context, x *executor) error {
	if o.Body == nil && o.Secret == "" {
		return nil
	}
	body := maps.Clone(o.Body)
	if body == nil {
		// Only the secret changed: the provider as read is in the plan's
		// state, but not here; read it again.
		var cur map[string]any
		if err := x.a.get(ctx, x.path("identity-provider", "instances", esc(o.Alias)), &cur); err != nil {
			return err
		}
		body = cur
	}
	cfg := map[string]any{}
	if c, ok := body["config"].(map[string]any); ok {
		maps.Copy(cfg, c)
	} else if c, ok := body["config"].(map[string]string); ok {
		for k, v := range c {
			cfg[k] = v
		}
	}
	if o.Secret != "" {
		cfg["clientSecret"] = o.Secret
	} else if !o.Create {
		cfg["clientSecret"] = secretMask // Keycloak keeps the stored secret
	}
	body["config"] = cfg
	var err error
	if o.Create {
		_, err = x.a.do(ctx, http.MethodPost, x.path("identity-provider", "instances"), body, nil)
	} else {
		_, err = x.a.do(ctx, http.MethodPut, x.path("identity-provider", "instances", esc(o.Alias)), body, nil)
	}
	if err != nil || o.Secret == "" {
		return err
	}
	fp, err := fingerprint(o.Secret)
	if err != nil {
		return err
	}
	return x.withAttributes(ctx, nil, func(attrs map[string]string) error {
		attrs[IdPFingerprintAttribute(o.Alias)] = fp
		return nil
	})
}

// deleteIdP deletes a provider (its mappers go with it) and its
// secret's fingerprint.
type deleteIdP struct{ Alias string }

func (o deleteIdP) apply(ctx context.Context, x *executor) error {
	if _, err := ignore404(x.a.do(ctx, http.MethodDelete, x.path("identity-provider", "instances", esc(o.Alias)), nil, nil)); err != nil {
		return err
	}
	return x.withAttributes(ctx, nil, func(attrs map[string]string) error {
		delete(attrs, IdPFingerprintAttribute(o.Alias))
		return nil
	})
}

// saveIdPMapper creates a mapper (Rep.ID empty) or updates it (the whole
// mapper as read, the file's keys replaced).
type saveIdPMapper struct{ Rep *IdPMapperRep }

func (o saveIdPMapper) apply(ctx context.Context, x *executor) error {
	base := x.path("identity-provider", "instances", esc(o.Rep.Alias), "mappers")
	if o.Rep.ID == "" {
		_, err := x.a.do(ctx, http.MethodPost, base, o.Rep, nil)
		return err
	}
	_, err := x.a.do(ctx, http.MethodPut, base+"/"+esc(o.Rep.ID), o.Rep, nil)
	return err
}

// replaceIdPMapper replaces a mapper whose type changed.
type replaceIdPMapper struct {
	Old string
	Rep *IdPMapperRep
}

func (o replaceIdPMapper) apply(ctx context.Context, x *executor) error {
	if err := (deleteIdPMapper{Alias: o.Rep.Alias, ID: o.Old}).apply(ctx, x); err != nil {
		return err
	}
	return saveIdPMapper{Rep: o.Rep}.apply(ctx, x)
}

// deleteIdPMapper deletes one mapper of a provider.
type deleteIdPMapper struct{ Alias, ID string }

func (o deleteIdPMapper) apply(ctx context.Context, x *executor) error {
	_, err := ignore404(x.a.do(ctx, http.MethodDelete, x.path("identity-provider", "instances", esc(o.Alias), "mappers", esc(o.ID)), nil, nil))
	return err
}
