// Package storetest is the contract every chatcore.Store adapter passes: one
// suite of behaviour users notice (unique usernames, refresh token rotation,
// one direct conversation per pair, gapless seqs under concurrency,
// deduplicated retries, attachment rules, receipts, unread counts), run
// against each adapter by its own tests.
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) chatcore.Store {
//			db := mustOpen(t) // a fresh, migrated database closed by t.Cleanup
//			return db
//		})
//	}
//
// BenchmarkAppendMessage measures the hot path the same way for every adapter.
package storetest
