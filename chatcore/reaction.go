package chatcore

import (
	"context"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Reaction and reply limits.
const (
	// MaxEmojiBytes bounds one reaction's emoji (one grapheme cluster).
	MaxEmojiBytes = 32
	// MaxReactionsPerUser is how many different emoji one user may put
	// on one message.
	MaxReactionsPerUser = 20
	// MaxEmojiPerMessage is how many different emoji one message may carry.
	MaxEmojiPerMessage = 50
	// ReactionUserIDs is how many reactors' ids a summary lists (the first).
	ReactionUserIDs = 10
	// ReplyBodyRunes is how much of the quoted body a reply_to carries.
	ReplyBodyRunes = 200
)

// Reaction summarises one emoji on a message: how many reacted with it,
// the first ReactionUserIDs of them (oldest first), and whether the
// viewer is among them.
type Reaction struct {
	Emoji   string   `json:"emoji"`
	Count   int      `json:"count"`
	UserIDs []string `json:"user_ids"`
	Me      bool     `json:"me"`
}

// ReplyTo is what a replying message carries about the message it quotes,
// so clients draw the quote without another request. A deleted original
// has an empty body and deleted set.
type ReplyTo struct {
	Seq      int64       `json:"seq"`
	SenderID string      `json:"sender_id"`
	Body     string      `json:"body"`
	Kind     MessageKind `json:"kind"`
	Deleted  bool        `json:"deleted"`
}

// ValidateEmoji checks a reaction's emoji: valid UTF-8, exactly one
// grapheme cluster, at most MaxEmojiBytes, no control or space characters.
// It does not check the cluster is an emoji: any single symbol may react.
func ValidateEmoji(emoji string) error {
	switch {
	case emoji == "":
		return Errorf(EInvalid, "emoji is required")
	case len(emoji) > MaxEmojiBytes:
		return Errorf(EInvalid, "emoji must be at most %d bytes", MaxEmojiBytes)
	case !utf8.ValidString(emoji):
		return Errorf(EInvalid, "emoji must be valid UTF-8")
	case uniseg.GraphemeClusterCount(emoji) != 1:
		return Errorf(EInvalid, "emoji must be exactly one character (grapheme cluster)")
	}
	for _, r := range emoji {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return Errorf(EInvalid, "emoji must not be a control or space character")
		}
	}
	return nil
}

// ReactionStore keeps reactions and fills the per-viewer parts of
// messages (reactions, reply_to). Both SQL adapters implement it.
type ReactionStore interface {
	// AddReaction records userID's emoji on a message in one statement;
	// added is false when it was already there (idempotent). ENotFound if
	// there is no such message; EConflict for a tombstone; EInvalid for a
	// system message; ETooLarge when the user already has
	// MaxReactionsPerUser emoji on it or the message MaxEmojiPerMessage.
	AddReaction(ctx context.Context, conversationID string, seq int64, userID, emoji string, at time.Time) (added bool, err error)
	// RemoveReaction removes it; removed is false when it was not there.
	// ENotFound if there is no such message.
	RemoveReaction(ctx context.Context, conversationID string, seq int64, userID, emoji string) (removed bool, err error)
	// FillMessageDetails sets Reactions (Me relative to viewerID; "" for
	// nobody) and ReplyTo on msgs, which may span conversations, in a
	// bounded number of queries.
	FillMessageDetails(ctx context.Context, msgs []*Message, viewerID string) error
	// ReactorEmoji returns, for every user who reacted to the message, the
	// emoji they used.
	ReactorEmoji(ctx context.Context, conversationID string, seq int64) (map[string][]string, error)
}

// TruncateRunes returns s cut to at most n runes, never inside a rune.
func TruncateRunes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
