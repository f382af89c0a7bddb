package chatcore

import (
	"context"
	"log/slog"
	"unicode/utf8"
)

// SearchService finds messages the caller can see by the words of their
// bodies.
type SearchService interface {
	// Search returns up to req.Limit messages matching req.Query, newest
	// first, each with a highlighted snippet (see Snippet), from the
	// conversations the caller is a member of now, sent while a member.
	// A query with no word returns no hit. Errors: EInvalid (q longer than
	// MaxSearchQueryBytes or not UTF-8, negative limit), ENotFound
	// (ConversationID names a conversation the caller is not a member of).
	Search(ctx context.Context, callerID string, req SearchRequest) ([]*SearchHit, error)
}

// searchService implements SearchService.
type searchService struct{ *deps }

func (s *searchService) Search(ctx context.Context, callerID string, req SearchRequest) ([]*SearchHit, error) {
	if err := validSearchQuery(req.Query); err != nil {
		return nil, err
	}
	limit, err := pageLimit(req.Limit, DefaultSearchPage, MaxSearchPage)
	if err != nil {
		return nil, err
	}
	if req.ConversationID != "" {
		ok, err := s.store.IsMember(ctx, req.ConversationID, callerID)
		if err != nil && ErrorCode(err) != ENotFound {
			return nil, internalError("search", err, slog.String("conversation_id", req.ConversationID))
		}
		if !ok {
			return nil, Errorf(ENotFound, "conversation not found")
		}
	}
	hits := []*SearchHit{}
	terms := SearchTerms(req.Query)
	if len(terms) == 0 {
		return hits, nil
	}
	q := SearchQuery{
		Terms:          terms,
		Prefix:         utf8.RuneCountInString(terms[len(terms)-1]) >= MinSearchPrefixLen,
		ConversationID: req.ConversationID,
		Before:         req.Before,
		Limit:          limit,
	}
	msgs, err := s.store.SearchMessages(ctx, callerID, q)
	if err != nil {
		return nil, internalError("search", err)
	}
	if err := s.details(ctx, msgs, callerID, "search"); err != nil {
		return nil, err
	}
	for _, m := range msgs {
		hits = append(hits, &SearchHit{Message: m, Snippet: Snippet(m.Body, q.Terms, q.Prefix)})
	}
	if err := s.flagBlockedSenders(ctx, callerID, hitMessages(hits)); err != nil {
		return nil, err
	}
	return hits, nil
}
