package sqlite

import "strings"

// Search runs over messages_fts, an FTS5 external content table on
// messages.body (unicode61 tokenizer, diacritics kept) that triggers keep
// in sync on insert, update of body and delete (migration 0007).
const (
	searchFrom  = `messages_fts JOIN messages m ON m.rowid = messages_fts.rowid`
	searchWhere = `messages_fts MATCH $2`
)

// searchMatch builds the FTS5 query: every term as a quoted string
// (implicit AND), the last one a prefix ("word"*) when prefix. Terms hold
// only letters and digits (chatcore.SearchTerms); quotes are doubled anyway.
func searchMatch(terms []string, prefix bool) []any {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(`"` + strings.ReplaceAll(t, `"`, `""`) + `"`)
	}
	if prefix {
		b.WriteByte('*')
	}
	return []any{b.String()}
}
