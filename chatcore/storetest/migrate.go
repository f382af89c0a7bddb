package storetest

import (
	"context"
	"sync"
	"testing"
)

// Migrator is a database handle that applies its own schema.
type Migrator interface {
	Migrate(ctx context.Context) error
}

// MigrateConcurrently runs Migrate on every handle at once, as nodes that
// start together do, then once more on the first: every call must succeed.
// Pass handles of separate pools (separate Open calls) on one new database.
func MigrateConcurrently(t *testing.T, handles ...Migrator) {
	t.Helper()
	errs := make([]error, len(handles))
	var wg sync.WaitGroup
	for i, h := range handles {
		wg.Go(func() { errs[i] = h.Migrate(t.Context()) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrate on handle %d: %v", i, err)
		}
	}
	if err := handles[0].Migrate(t.Context()); err != nil {
		t.Errorf("migrate again: %v", err)
	}
}
