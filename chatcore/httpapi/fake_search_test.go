package httpapi

import (
	"context"
	"slices"
	"strings"

	"github.com/parley-chat/parley/chatcore"
)

// chatcore.SearchService: a body matches when it holds every word of the
// query as a word (no prefixes), in the caller's conversations.

func (f *fakeChat) Search(_ context.Context, callerID string, req chatcore.SearchRequest) ([]*chatcore.SearchHit, error) {
	if err := f.enter("Search"); err != nil {
		return nil, err
	}
	if len(req.Query) > chatcore.MaxSearchQueryBytes {
		return nil, chatcore.Errorf(chatcore.EInvalid, "q is too long")
	}
	if req.ConversationID != "" {
		if _, err := f.member(req.ConversationID, callerID, chatcore.ENotFound); err != nil {
			return nil, err
		}
	}
	terms := chatcore.SearchTerms(req.Query)
	f.mu.Lock()
	defer f.mu.Unlock()
	hits := []*chatcore.SearchHit{}
	for id, c := range f.convs {
		if req.ConversationID != "" && id != req.ConversationID ||
			!slices.ContainsFunc(c.Members, func(m chatcore.Member) bool { return m.UserID == callerID }) {
			continue
		}
		for _, m := range f.msgs[id] {
			words := chatcore.SearchTerms(strings.ToLower(m.Body))
			if len(terms) > 0 && !slices.ContainsFunc(terms, func(t string) bool { return !slices.Contains(words, t) }) {
				hits = append(hits, &chatcore.SearchHit{Message: m, Snippet: chatcore.Snippet(m.Body, terms, false)})
			}
		}
	}
	return hits, nil
}
