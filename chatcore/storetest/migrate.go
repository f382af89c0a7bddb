package storetest

import (
	"context"
	"sync"
	"testing"

	"github.com/parley-chat/parley/chatcore"
)

// Migrator is a store that applies its own schema.
type Migrator interface {
	chatcore.Store
	Migrate(ctx context.Context) error
}

// MigrateConcurrently opens n handles with open (separate pools on one new,
// unmigrated database, closed when t ends) and runs Migrate on all of them
// at once, as nodes that start together do, then once more: every call must
// succeed and leave a working schema.
func MigrateConcurrently(t *testing.T, n int, open func(t *testing.T) Migrator) {
	t.Helper()
	handles := make([]Migrator, n)
	for i := range handles {
		handles[i] = open(t)
	}
	errs := make([]error, n)
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
	u := MustUser(t, handles[0], "alice")
	if _, err := handles[n-1].UserByID(t.Context(), u.ID); err != nil {
		t.Errorf("read through another handle: %v", err)
	}
	if err := handles[n-1].Ping(t.Context()); err != nil {
		t.Errorf("ping: %v", err)
	}
}
