package chatcore

// Page sizes of every list the services return, defined here once. The
// services apply them (pageLimit): a limit of 0 takes the default, a larger
// one than the max is cut to it, a negative one is EInvalid. Edges may
// reject out-of-range values earlier (HTTP answers 400 past the max) but
// use these constants to do so, and docs/protocol.md and docs/openapi.json
// state the same numbers.
const (
	DefaultUsersPage         = 20  // FindUsers
	MaxUsersPage             = 100 // FindUsers
	DefaultConversationsPage = 50  // Conversations
	MaxConversationsPage     = 200 // Conversations
	DefaultMessagesPage      = 50  // Messages (history)
	MaxMessagesPage          = 200 // Messages (history)
	DefaultSearchPage        = 20  // Search
	MaxSearchPage            = 100 // Search
	DefaultSyncPage          = 100 // Sync (changes; conversations of a fresh device)
	MaxSyncPage              = 500 // Sync
)

// pageLimit applies a page's default and max to a requested limit.
func pageLimit(limit, def, max int) (int, error) {
	switch {
	case limit < 0:
		return 0, Errorf(EInvalid, "limit must not be negative")
	case limit == 0:
		return def, nil
	}
	return min(limit, max), nil
}
