package chatcore

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Full-text search over message bodies (GET /v1/search). A query is split
// into words (runs of letters and digits, lower-cased); a message matches
// when its body holds every word, the last one as a prefix when it has at
// least MinSearchPrefixLen characters (so "hel" finds "hello" as the user
// types). Words are matched as words in any language: the stores index
// with Postgres's "simple" configuration and SQLite FTS5's unicode61
// tokenizer, neither of which stems or drops stop words.
const (
	// MaxSearchQueryBytes bounds the q parameter.
	MaxSearchQueryBytes = 256
	// MaxSearchTerms bounds the words of a query.
	MaxSearchTerms = 8
	// MinSearchPrefixLen is the shortest last word matched as a prefix;
	// a shorter one must match a whole word.
	MinSearchPrefixLen = 2
	// HighlightStart and HighlightEnd surround each matched word in a
	// snippet (U+0002 START OF TEXT, U+0003 END OF TEXT, "\u0002" and
	// "\u0003" in JSON). The snippet never holds them otherwise: they are
	// removed from the body before highlighting.
	HighlightStart = "\u0002"
	HighlightEnd   = "\u0003"
	// snippetWords is how many words a snippet shows around the first match.
	snippetWords = 12
)

// SearchRequest is one search as the caller asks it.
type SearchRequest struct {
	Query string
	// ConversationID limits the search to one conversation; "" = every
	// conversation the caller is a member of.
	ConversationID string
	// Before returns only messages created strictly before it (the
	// created_at of the last result seen); zero = from the newest.
	Before time.Time
	// Limit 0 means DefaultSearchPage; more than MaxSearchPage is cut to it.
	Limit int
}

// SearchHit is one message found, with a snippet of its body in which
// matched words are wrapped in HighlightStart and HighlightEnd.
type SearchHit struct {
	Message *Message `json:"message"`
	Snippet string   `json:"snippet"`
}

// SearchQuery is a search as the store runs it: normalised words (letters
// and digits only, lower-case), the last one a prefix when Prefix.
type SearchQuery struct {
	Terms          []string
	Prefix         bool
	ConversationID string    // "" = all of the user's conversations
	Before         time.Time // zero = no bound
	Limit          int
}

// SearchStore finds messages by their bodies. Adapters: chatcore/sqlite
// (FTS5) and chatcore/postgres (tsvector); both pass chatcore/storetest.
type SearchStore interface {
	// SearchMessages returns up to q.Limit messages of conversations
	// userID is a member of, created while a member (at or after the
	// member row's joined_at), whose body holds every term, newest first
	// (created_at, then conversation id and seq, descending). Messages
	// with an empty body (deleted ones) never match. Messages carry their
	// attachments.
	SearchMessages(ctx context.Context, userID string, q SearchQuery) ([]*Message, error)
}

// SearchTerms splits a query into at most MaxSearchTerms normalised words:
// runs of letters and digits, lower-cased, duplicates kept once.
func SearchTerms(q string) []string {
	var terms []string
	seen := map[string]bool{}
	for _, w := range strings.FieldsFunc(q, notWordRune) {
		w = strings.ToLower(w)
		if seen[w] {
			continue
		}
		seen[w] = true
		terms = append(terms, w)
		if len(terms) == MaxSearchTerms {
			break
		}
	}
	return terms
}

func notWordRune(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }

// Snippet returns up to snippetWords words of body around the first word
// matching terms (the last as a prefix when prefix), with every matching
// word wrapped in HighlightStart and HighlightEnd. Text outside the window
// is replaced by "…".
func Snippet(body string, terms []string, prefix bool) string {
	body = strings.NewReplacer(HighlightStart, "", HighlightEnd, "").Replace(body)
	type word struct{ start, end int }
	var words []word
	start := -1
	for i, r := range body {
		if notWordRune(r) {
			if start >= 0 {
				words = append(words, word{start, i})
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		words = append(words, word{start, len(body)})
	}
	matches := func(w string) bool {
		w = strings.ToLower(w)
		for i, t := range terms {
			if w == t || prefix && i == len(terms)-1 && strings.HasPrefix(w, t) {
				return true
			}
		}
		return false
	}
	first := -1
	hit := make([]bool, len(words))
	for i, w := range words {
		if matches(body[w.start:w.end]) {
			hit[i] = true
			if first < 0 {
				first = i
			}
		}
	}
	lo, hi := 0, len(words)
	if len(words) > snippetWords {
		lo = max(0, first-snippetWords/3)
		hi = min(len(words), lo+snippetWords)
		lo = max(0, hi-snippetWords)
	}
	var b strings.Builder
	from := 0
	if lo > 0 {
		b.WriteString("…")
		from = words[lo].start
	}
	to := len(body)
	if hi < len(words) {
		to = words[hi-1].end
	}
	for i := lo; i < hi; i++ {
		w := words[i]
		b.WriteString(body[from:w.start])
		if hit[i] {
			b.WriteString(HighlightStart + body[w.start:w.end] + HighlightEnd)
		} else {
			b.WriteString(body[w.start:w.end])
		}
		from = w.end
	}
	b.WriteString(body[from:to])
	if to < len(body) {
		b.WriteString("…")
	}
	return strings.TrimSpace(b.String())
}

// validSearchQuery checks the raw query's size and encoding.
func validSearchQuery(q string) error {
	switch {
	case len(q) > MaxSearchQueryBytes:
		return Errorf(EInvalid, "q must be at most %d bytes", MaxSearchQueryBytes)
	case !utf8.ValidString(q):
		return Errorf(EInvalid, "q must be valid UTF-8")
	}
	return nil
}
