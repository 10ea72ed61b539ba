package keycloak

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/Nerzal/gocloak/v13"

	"github.com/ssoctl/ssoctl/plan"
)

// The ownership record is one realm attribute that every file's apply
// rewrites, and Keycloak has no compare-and-swap for it (a realm carries no
// version, and an update replaces all its attributes). So each rewrite runs
// under a lock that ssoctl holds in the realm: a realm role named
// RecordLockRole, whose creation is atomic (Keycloak answers 409 to the
// second create of a name). The role carries a lease, so a run that dies
// holding it delays the next one by at most RecordLockLease. The lock is
// held only while the record is read and written again (two requests),
// never during the apply.
const (
	// RecordLockRole is the realm role that is the record's lock.
	RecordLockRole = "ssoctl.record-lock"
	// RecordLockLease is how long a lock is good for: a lock older than
	// that is taken over.
	RecordLockLease = 30 * time.Second
	// RecordLockWait bounds how long a run waits for the lock.
	RecordLockWait = RecordLockLease + 10*time.Second

	lockUntilAttr  = "ssoctl.lease-until"
	lockHolderAttr = "ssoctl.holder"
)

// OnWait sets where the admin says that it waits for the record's lock, and
// for how long at most (apply prints it on stderr).
func (a *Admin) OnWait(f func(msg string)) { a.onWait = f }

// recordLock is a lock held on a realm's ownership record.
type recordLock struct {
	realm, id string
}

// lockRecord takes the realm's record lock, waiting for another holder's
// lease to end; a lease that has run out is taken over.
func (a *Admin) lockRecord(ctx context.Context, realm string) (*recordLock, error) {
	token := make([]byte, 8)
	_, _ = rand.Read(token)
	host, _ := os.Hostname()
	holder := fmt.Sprintf("ssoctl pid %d on %s (%s)", os.Getpid(), host, hex.EncodeToString(token))
	deadline := time.Now().Add(RecordLockWait)
	told := false
	pause := 20 * time.Millisecond
	for {
		until := time.Now().Add(RecordLockLease)
		role := map[string]any{
			"name":        RecordLockRole,
			"description": "held by " + holder + " while it rewrites the ownership record (attribute " + OwnershipAttribute + "); a lease that has run out is taken over",
			"attributes": map[string][]string{
				lockUntilAttr:  {strconv.FormatInt(until.UnixMilli(), 10)},
				lockHolderAttr: {holder},
			},
		}
		_, err := a.do(ctx, http.MethodPost, "/"+esc(realm)+"/roles", role, nil)
		if err == nil {
			return a.ownLock(ctx, realm, holder)
		}
		if !IsConflict(err) {
			return nil, fmt.Errorf("taking the ownership record's lock (realm role %s): %w", RecordLockRole, err)
		}
		cur, err := a.readLock(ctx, realm)
		if err != nil {
			return nil, err
		}
		if cur == nil {
			continue // released meanwhile
		}
		if time.Now().After(cur.until) {
			// The holder died: take its lock over by its id, so that a
			// lock taken meanwhile by a third run is not the one deleted.
			if _, err := ignore404(a.do(ctx, http.MethodDelete, "/"+esc(realm)+"/roles-by-id/"+esc(cur.id), nil, nil)); err != nil {
				return nil, err
			}
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("the ownership record of realm %s is locked by %s until %s: another apply is running; if none is, delete the realm role %s",
				realm, cur.holder, cur.until.Format(time.RFC3339), RecordLockRole)
		}
		if !told && a.onWait != nil {
			a.onWait(fmt.Sprintf("waiting for the ownership record of realm %s: %s holds it, for at most %s more",
				realm, cur.holder, time.Until(cur.until).Round(time.Second)))
			told = true
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// heldLock is the lock as the realm has it.
type heldLock struct {
	id, holder string
	until      time.Time
}

// readLock reads the lock role; nil when there is none.
func (a *Admin) readLock(ctx context.Context, realm string) (*heldLock, error) {
	var r gocloak.Role
	if err := a.get(ctx, "/"+esc(realm)+"/roles/"+esc(RecordLockRole), &r); err != nil {
		if IsNotFound(err) {
			return nil, nil
		}
		return nil, err
	}
	attrs := deref(r.Attributes)
	first := func(k string) string {
		if v := attrs[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	ms, _ := strconv.ParseInt(first(lockUntilAttr), 10, 64)
	// A lock without a readable lease (made by hand) counts as run out.
	return &heldLock{id: deref(r.ID), holder: first(lockHolderAttr), until: time.UnixMilli(ms)}, nil
}

// ownLock reads back the lock just created, for its id.
func (a *Admin) ownLock(ctx context.Context, realm, holder string) (*recordLock, error) {
	cur, err := a.readLock(ctx, realm)
	if err != nil {
		return nil, err
	}
	if cur == nil || cur.holder != holder {
		return nil, fmt.Errorf("the ownership record's lock of realm %s was taken over right after it was taken: retry", realm)
	}
	return &recordLock{realm: realm, id: cur.id}, nil
}

// takeLock takes the record's lock and returns its release.
func (a *Admin) takeLock(ctx context.Context, realm string) (func() error, error) {
	if a.lock != nil {
		return a.lock(ctx, realm)
	}
	l, err := a.lockRecord(ctx, realm)
	if err != nil {
		return nil, err
	}
	return func() error { return a.unlock(ctx, l) }, nil
}

// unlock releases the lock (by its id: a lock that was taken over after
// its lease ran out is not deleted).
func (a *Admin) unlock(ctx context.Context, l *recordLock) error {
	_, err := ignore404(a.do(context.WithoutCancel(ctx), http.MethodDelete, "/"+esc(l.realm)+"/roles-by-id/"+esc(l.id), nil, nil))
	return err
}

func ignore404(loc string, err error) (string, error) {
	if IsNotFound(err) {
		return loc, nil
	}
	return loc, err
}

// writeRecord stores this file's owner's objects in the ownership record
// (the realm attribute OwnershipAttribute), under the record's lock: the
// realm's attributes are read again, the owner's entries replaced by Mine,
// and all of them sent back. Keycloak replaces a realm's attributes whole
// when an update carries any (measured on 26.x), so the others, the other
// owners' entries included, go back as they were read a moment before.
// An object of Mine that another owner took meanwhile fails the write.
type writeRecord struct {
	plan.Claimant
	Mine plan.Owned
}

func (o writeRecord) apply(ctx context.Context, x *executor) error {
	return x.withAttributes(ctx, nil, func(attrs map[string]string) error {
		rec := plan.Record{}
		if raw := attrs[OwnershipAttribute]; raw != "" {
			if err := json.Unmarshal([]byte(raw), &rec); err != nil {
				rec = plan.Record{} // unreadable: rewritten, as planned
			}
		}
		if err := o.claimedMeanwhile(x.realm, rec); err != nil {
			return err
		}
		data, err := json.Marshal(rec.With(o.Owner, o.Mine))
		if err != nil {
			return err
		}
		attrs[OwnershipAttribute] = string(data)
		return nil
	})
}

// withAttributes makes one realm update that carries attributes, under
// the record's lock: the realm's attributes are read again, edit changes
// them (or refuses), and all of them go back with the rest of body.
// Keycloak replaces a realm's attributes whole when an update carries any,
// so this is the only way ssoctl writes them.
func (x *executor) withAttributes(ctx context.Context, body map[string]any, edit func(attrs map[string]string) error) (err error) {
	unlock, err := x.a.takeLock(ctx, x.realm)
	if err != nil {
		return err
	}
	defer func() {
		if uerr := unlock(); err == nil && uerr != nil {
			err = fmt.Errorf("releasing the ownership record's lock: %w", uerr)
		}
	}()
	var rr struct {
		Attributes map[string]string `json:"attributes"`
	}
	if err := x.a.get(ctx, x.path(), &rr); err != nil {
		return err
	}
	attrs := rr.Attributes
	if attrs == nil {
		attrs = map[string]string{}
	}
	if err := edit(attrs); err != nil {
		return err
	}
	if body == nil {
		body = map[string]any{}
	}
	body["attributes"] = attrs
	_, err = x.a.do(ctx, http.MethodPut, x.path(), body, nil)
	return err
}

// claimedMeanwhile refuses to record objects that another owner recorded
// since the plan was read (two files that declare one object, applied at
// once).
func (o writeRecord) claimedMeanwhile(realm string, rec plan.Record) error {
	for r := range o.Mine {
		if other := rec[r]; o.Refuses(other) {
			return &InputError{Key: "owner", Msg: fmt.Sprintf("realm %s: %s was just recorded by owner %s, and this file (owner %s) declares it too; declare it in one file only, or move it here with adopt_from: [%s]",
				realm, r, other, o.Owner, other)}
		}
	}
	return nil
}
