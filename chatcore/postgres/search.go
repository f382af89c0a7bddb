package postgres

import "strings"

// Search runs over messages.body_tsv, a generated to_tsvector('simple',
// body) (migration 0007): words match in any language, unstemmed; an edit
// recomputes the column and an emptied body (a deletion) leaves nothing to
// match. Its GIN index also holds conversation_id (btree_gin, migration
// 0012), so the planner can look a word up in each of the caller's
// conversations instead of in all of them.
//
// A prefix term ("word:*") costs the index a walk over every lexeme that
// starts with it, in every conversation. When the query also has whole
// words, only they go to the index ($2), and the full query, prefix
// included, is checked on the rows found ($3) by ts_match_vq, the
// function behind @@, which the planner does not use an index for. A
// query that is a single prefix goes to the index as it is.
const (
	searchFrom  = `messages m`
	searchWhere = `m.body_tsv @@ to_tsquery('simple', $2) AND ts_match_vq(m.body_tsv, to_tsquery('simple', $3))`
)

// searchMatch builds the two tsquery texts of searchWhere: the words the
// index looks up, and the whole query, every term ANDed, the last one a
// prefix when prefix. Terms hold only letters and digits
// (chatcore.SearchTerms), so none can carry tsquery syntax.
func searchMatch(terms []string, prefix bool) []any {
	all := strings.Join(terms, " & ")
	if !prefix {
		return []any{all, all}
	}
	all += ":*"
	if len(terms) == 1 {
		return []any{all, all}
	}
	return []any{strings.Join(terms[:len(terms)-1], " & "), all}
}
