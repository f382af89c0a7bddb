package chatcore

import "context"

// Receipt is a member's cumulative delivery and read position in a
// conversation. ReadSeq <= DeliveredSeq <= the conversation's LastSeq.
type Receipt struct {
	ConversationID string `json:"conversation_id"`
	UserID         string `json:"user_id"`
	DeliveredSeq   int64  `json:"delivered_seq"`
	ReadSeq        int64  `json:"read_seq"`
	// ChangeID is the receipt's place in the sync feed; frames carry it as
	// an opaque cursor.
	ChangeID int64 `json:"-"`
}

// ReceiptStore persists receipts.
type ReceiptStore interface {
	// AdvanceReceipt moves userID's positions forward: delivered and read
	// are raised to the given values if larger (0 leaves one alone), read
	// raises delivered too, and both are clamped to the conversation's last
	// seq. changed is false when nothing moved. ENotFound if not a member.
	AdvanceReceipt(ctx context.Context, conversationID, userID string, delivered, read int64) (r Receipt, changed bool, err error)
}
