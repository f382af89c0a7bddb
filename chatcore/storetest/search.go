package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

// Raw is direct SQL on one connection to the database behind a store, for
// what the Store interface cannot do yet (change a stored body as an edit
// or a tombstone does) and for seeding benchmarks in bulk. Statements use
// $1, $2... placeholders, which both engines accept.
type Raw interface {
	Exec(ctx context.Context, query string, args ...any) error
}

// RunSearch runs the search contract. open returns a fresh, migrated,
// empty store and raw SQL on the same database.
func RunSearch(t *testing.T, open func(t *testing.T) (chatcore.Store, Raw)) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s chatcore.Store, raw Raw)
	}{
		{"Visibility", testSearchVisibility},
		{"Matching", testSearchMatching},
		{"Paging", testSearchPaging},
		{"EditsAndDeletions", testSearchEditsAndDeletions},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, raw := open(t)
			tc.fn(t, s, raw)
		})
	}
}

// search runs q as user and returns the bodies found, newest first.
func search(t *testing.T, s chatcore.Store, userID string, q chatcore.SearchQuery) []string {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = chatcore.MaxSearchPage
	}
	msgs, err := s.SearchMessages(ctx(t), userID, q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	bodies := []string{}
	for _, m := range msgs {
		bodies = append(bodies, m.Body)
	}
	return bodies
}

func words(terms ...string) chatcore.SearchQuery { return chatcore.SearchQuery{Terms: terms} }

func wantBodies(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// testSearchVisibility: a user finds only messages of conversations they
// are a member of now, sent while a member: not before they joined, none
// at all after they left, none of other conversations.
func testSearchVisibility(t *testing.T, s chatcore.Store, _ Raw) {
	us := MustUsers(t, s, "sv", 4)
	ann, ben, cat, dan := us[0], us[1], us[2], us[3]
	g := MustGroup(t, s, "team", ann, ben)
	other := MustDirect(t, s, cat, dan)
	MustSend(t, s, g.ID, ann.ID, "secret plan alpha", at(time.Minute))
	MustSend(t, s, other.ID, cat.ID, "secret plan beta", at(2*time.Minute))

	wantBodies(t, "ann", search(t, s, ann.ID, words("secret", "plan")), "secret plan alpha")
	wantBodies(t, "cat", search(t, s, cat.ID, words("secret", "plan")), "secret plan beta")
	wantBodies(t, "ann in cat's conversation", search(t, s, ann.ID, chatcore.SearchQuery{Terms: []string{"secret"}, ConversationID: other.ID}))

	// Cat joins later: she does not find what was said before.
	if err := s.AddMembers(ctx(t), g.ID, []string{cat.ID}, at(time.Hour)); err != nil {
		t.Fatalf("add cat: %v", err)
	}
	MustSend(t, s, g.ID, ben.ID, "secret plan gamma", at(2*time.Hour))
	wantBodies(t, "cat after joining", search(t, s, cat.ID, words("secret")), "secret plan gamma", "secret plan beta")
	wantBodies(t, "ann", search(t, s, ann.ID, words("secret")), "secret plan gamma", "secret plan alpha")

	// Ben leaves: he finds nothing of the group any more, old or new.
	if err := s.RemoveMember(ctx(t), g.ID, ben.ID); err != nil {
		t.Fatalf("remove ben: %v", err)
	}
	MustSend(t, s, g.ID, ann.ID, "secret plan delta", at(3*time.Hour))
	wantBodies(t, "ben after leaving", search(t, s, ben.ID, words("secret")))
	wantBodies(t, "ben after leaving, by conversation", search(t, s, ben.ID, chatcore.SearchQuery{Terms: []string{"secret"}, ConversationID: g.ID}))
	wantBodies(t, "dan", search(t, s, dan.ID, words("secret")), "secret plan beta")
	wantBodies(t, "stranger", search(t, s, "no-such-user", words("secret")))
}

// testSearchMatching: every word must match, as a whole word, in any
// case; the last one as a prefix when asked; any script.
func testSearchMatching(t *testing.T, s chatcore.Store, _ Raw) {
	us := MustUsers(t, s, "sm", 2)
	c := MustDirect(t, s, us[0], us[1])
	MustSend(t, s, c.ID, us[0].ID, "Lunch at the Café, tomorrow?", at(time.Minute))
	MustSend(t, s, c.ID, us[1].ID, "lunchbox forgotten", at(2*time.Minute))
	MustSend(t, s, c.ID, us[1].ID, "Встреча завтра в офисе", at(3*time.Minute))
	MustSend(t, s, c.ID, us[0].ID, "", at(4*time.Minute))
	me := us[0].ID

	wantBodies(t, "one word, any case", search(t, s, me, words("lunch")), "Lunch at the Café, tomorrow?")
	wantBodies(t, "all words", search(t, s, me, words("lunch", "tomorrow")), "Lunch at the Café, tomorrow?")
	wantBodies(t, "a missing word", search(t, s, me, words("lunch", "dinner")))
	wantBodies(t, "prefix on the last word", search(t, s, me, chatcore.SearchQuery{Terms: []string{"lunch"}, Prefix: true}),
		"lunchbox forgotten", "Lunch at the Café, tomorrow?")
	wantBodies(t, "prefix only on the last word", search(t, s, me, chatcore.SearchQuery{Terms: []string{"lun", "forgotten"}, Prefix: true}))
	wantBodies(t, "two words, last a prefix", search(t, s, me, chatcore.SearchQuery{Terms: []string{"lunch", "tom"}, Prefix: true}),
		"Lunch at the Café, tomorrow?")
	wantBodies(t, "accented word", search(t, s, me, words("café")), "Lunch at the Café, tomorrow?")
	wantBodies(t, "cyrillic", search(t, s, me, words("встреча", "офисе")), "Встреча завтра в офисе")
	wantBodies(t, "cyrillic prefix", search(t, s, me, chatcore.SearchQuery{Terms: []string{"завт"}, Prefix: true}), "Встреча завтра в офисе")
	wantBodies(t, "no terms", search(t, s, me, chatcore.SearchQuery{}))
}

// testSearchPaging: newest first, limit, before and conversation filters.
func testSearchPaging(t *testing.T, s chatcore.Store, _ Raw) {
	us := MustUsers(t, s, "sp", 3)
	a := MustDirect(t, s, us[0], us[1])
	b := MustDirect(t, s, us[0], us[2])
	for i, body := range []string{"note one", "note two", "note three", "note four"} {
		conv := a.ID
		if i%2 == 1 {
			conv = b.ID
		}
		MustSend(t, s, conv, us[0].ID, body, at(time.Duration(i+1)*time.Minute))
	}
	me := us[0].ID
	wantBodies(t, "all", search(t, s, me, words("note")), "note four", "note three", "note two", "note one")
	wantBodies(t, "limit", search(t, s, me, chatcore.SearchQuery{Terms: []string{"note"}, Limit: 2}), "note four", "note three")
	msgs, err := s.SearchMessages(ctx(t), me, chatcore.SearchQuery{Terms: []string{"note"}, Limit: 2})
	if err != nil || len(msgs) != 2 {
		t.Fatalf("search: %v, %d messages", err, len(msgs))
	}
	if !msgs[1].CreatedAt.Equal(micro(at(3*time.Minute))) || msgs[1].Seq != 2 || msgs[1].ConversationID != a.ID || msgs[1].Attachments == nil {
		t.Errorf("second hit: got %+v", msgs[1])
	}
	wantBodies(t, "before", search(t, s, me, chatcore.SearchQuery{Terms: []string{"note"}, Before: msgs[1].CreatedAt}), "note two", "note one")
	wantBodies(t, "one conversation", search(t, s, me, chatcore.SearchQuery{Terms: []string{"note"}, ConversationID: b.ID}), "note four", "note two")
	wantBodies(t, "peer sees only theirs", search(t, s, us[2].ID, words("note")), "note four", "note two")
}

// testSearchEditsAndDeletions: changing a body re-indexes it; a tombstone
// (deleted_at set or the body emptied) or a deleted row is never found.
func testSearchEditsAndDeletions(t *testing.T, s chatcore.Store, raw Raw) {
	us := MustUsers(t, s, "se", 2)
	c := MustDirect(t, s, us[0], us[1])
	m1 := MustSend(t, s, c.ID, us[0].ID, "meet at the harbour", at(time.Minute))
	m2 := MustSend(t, s, c.ID, us[1].ID, "harbour is closed", at(2*time.Minute))
	me := us[0].ID
	wantBodies(t, "before the edit", search(t, s, me, words("harbour")), "harbour is closed", "meet at the harbour")

	if err := raw.Exec(ctx(t), `UPDATE messages SET body = $1 WHERE id = $2`, "meet at the station", m1.ID); err != nil {
		t.Fatalf("edit: %v", err)
	}
	wantBodies(t, "old word after the edit", search(t, s, me, words("harbour")), "harbour is closed")
	wantBodies(t, "new word after the edit", search(t, s, me, words("station")), "meet at the station")

	if err := raw.Exec(ctx(t), `UPDATE messages SET body = '' WHERE id = $1`, m2.ID); err != nil {
		t.Fatalf("tombstone: %v", err)
	}
	wantBodies(t, "after emptying", search(t, s, me, words("harbour")))
	wantBodies(t, "after emptying, closed", search(t, s, me, words("closed")))

	m4 := MustSend(t, s, c.ID, us[1].ID, "station closed", at(150*time.Second))
	wantBodies(t, "before the tombstone", search(t, s, me, words("closed")), m4.Body)
	if err := raw.Exec(ctx(t), `UPDATE messages SET deleted_at = created_at WHERE id = $1`, m4.ID); err != nil {
		t.Fatalf("tombstone keeping the body: %v", err)
	}
	wantBodies(t, "a tombstone that kept its body", search(t, s, me, words("closed")))

	if err := raw.Exec(ctx(t), `DELETE FROM messages WHERE id = $1`, m1.ID); err != nil {
		t.Fatalf("delete: %v", err)
	}
	wantBodies(t, "after deleting the row", search(t, s, me, words("station")))
	m3 := MustSend(t, s, c.ID, us[0].ID, "station again", at(3*time.Minute))
	wantBodies(t, "a new message after deletions", search(t, s, me, words("station")), m3.Body)
}
