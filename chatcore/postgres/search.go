package postgres

import "strings"

// Search runs over messages.body_tsv, a generated to_tsvector('simple',
// body) with a GIN index (migration 0007): words match in any language,
// unstemmed; an edit recomputes the column and an emptied body (a deletion)
// leaves nothing to match.
const (
	searchFrom  = `messages m`
	searchWhere = `m.body_tsv @@ to_tsquery('simple', $2)`
)

// searchMatch builds the tsquery text: every term ANDed, the last one a
// prefix ("word:*") when prefix. Terms hold only letters and digits
// (chatcore.SearchTerms), so none can carry tsquery syntax.
func searchMatch(terms []string, prefix bool) string {
	q := strings.Join(terms, " & ")
	if prefix {
		q += ":*"
	}
	return q
}
