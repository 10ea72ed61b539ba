package plan

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Result is the outcome of applying one change.
type Result struct {
	Change *Change
	Err    error
}

// ApplyError reports the changes that failed; those before them (and the
// independent ones beside them) were applied. Running apply again converges.
type ApplyError struct {
	Failed  []Result
	Applied int
}

func (e *ApplyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d change(s) failed (%d applied; run apply again after fixing the cause):", len(e.Failed), e.Applied)
	for _, r := range e.Failed {
		fmt.Fprintf(&b, "\n  %s %s %s: %v", r.Change.Action, r.Change.Kind, r.Change.Name, r.Err)
	}
	return b.String()
}

// Unwrap returns the first failure's cause, so errors.As finds typed server
// errors behind an apply failure.
func (e *ApplyError) Unwrap() error {
	if len(e.Failed) == 0 {
		return nil
	}
	return e.Failed[0].Err
}

// Execute applies the plan's changes phase by phase and step by step,
// running up to concurrency changes of one step at a time. It stops after
// the first step with a failure (later steps may depend on it) and when ctx
// is cancelled. done is called after each change, in completion order.
func (p *Plan) Execute(ctx context.Context, concurrency int, done func(Result)) error {
	if concurrency < 1 {
		concurrency = 1
	}
	stages := map[stage][]*Change{}
	var order []stage
	for _, c := range p.Changes {
		if c.Action == NoOp || c.Apply == nil {
			continue
		}
		st := stage{c.Phase, c.Step}
		if _, ok := stages[st]; !ok {
			order = append(order, st)
		}
		stages[st] = append(stages[st], c)
	}
	slices.SortFunc(order, func(a, b stage) int {
		switch {
		case a.less(b):
			return -1
		case b.less(a):
			return 1
		}
		return 0
	})
	applied := 0
	var failed []Result
	var mu sync.Mutex
	for _, st := range order {
		sem := make(chan struct{}, concurrency)
		var wg sync.WaitGroup
		for _, c := range stages[st] {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Add(1)
			go func(c *Change) {
				defer wg.Done()
				defer func() { <-sem }()
				err := ctx.Err()
				if err == nil {
					err = c.Apply(ctx)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed = append(failed, Result{c, err})
				} else {
					applied++
				}
				if done != nil {
					done(Result{c, err})
				}
			}(c)
		}
		wg.Wait()
		if len(failed) > 0 {
			return &ApplyError{Failed: failed, Applied: applied}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return nil
}
