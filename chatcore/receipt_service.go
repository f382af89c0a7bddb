package chatcore

import (
	"context"
	"log/slog"
)

// ReceiptService records how far each member has received and read a
// conversation and pushes changes to the other members.
type ReceiptService interface {
	// MarkDelivered records delivery up to seq. Errors: EInvalid (negative
	// seq), ENotFound (not a member).
	MarkDelivered(ctx context.Context, callerID, convID string, seq int64) (Receipt, error)
	// MarkRead records reading up to seq (which implies delivered).
	// Errors: EInvalid (negative seq), ENotFound (not a member).
	MarkRead(ctx context.Context, callerID, convID string, seq int64) (Receipt, error)
}

// receiptService implements ReceiptService.
type receiptService struct{ *deps }

// MarkDelivered records that the caller's device has every message up to
// seq and, when that moved the receipt, pushes it to the other members.
// Receipts are cumulative: a lower seq than already recorded changes
// nothing. Errors: EInvalid (negative seq), ENotFound (not a member).
func (s *receiptService) MarkDelivered(ctx context.Context, callerID, convID string, seq int64) (Receipt, error) {
	return s.advanceReceipt(ctx, callerID, convID, seq, 0, "mark delivered")
}

// MarkRead records that the caller has read up to seq (which implies
// delivered) and, when that moved the receipt, pushes it to the other
// members. Errors: EInvalid (negative seq), ENotFound (not a member).
func (s *receiptService) MarkRead(ctx context.Context, callerID, convID string, seq int64) (Receipt, error) {
	return s.advanceReceipt(ctx, callerID, convID, 0, seq, "mark read")
}

func (s *receiptService) advanceReceipt(ctx context.Context, callerID, convID string, delivered, read int64, op string) (Receipt, error) {
	if delivered < 0 || read < 0 {
		return Receipt{}, Errorf(EInvalid, "seq must not be negative")
	}
	r, changed, err := s.store.AdvanceReceipt(ctx, convID, callerID, delivered, read)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return Receipt{}, Errorf(ENotFound, "conversation not found")
		}
		return Receipt{}, internalError(op, err, slog.String("conversation_id", convID))
	}
	if !changed {
		return r, nil
	}
	if read > 0 && s.push != nil {
		// The other devices clear this conversation's notifications.
		s.push.ReadAdvanced(callerID, convID, r.ReadSeq, DeviceFromContext(ctx))
	}
	members, err := s.store.MemberIDs(ctx, convID)
	if err != nil {
		// The receipt is stored; others see it when they next load the
		// conversation.
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: members for receipt push",
			slog.String("conversation_id", convID), slog.Any("error", err))
		return r, nil
	}
	rel, err := s.blockRelations(ctx, callerID)
	if err != nil {
		// Stored; without the blocks nobody can be told safely.
		s.log.LogAttrs(ctx, slog.LevelError, "chatcore: blocks for receipt push",
			slog.String("conversation_id", convID), slog.Any("error", err))
		return r, nil
	}
	// A block stops receipts both ways: the blocker's do not reach the
	// blocked, the blocked's do not reach the blocker.
	others := dropBlocked(without(members, callerID), rel.Blocks, rel.BlockedBy)
	s.publish(ctx, others, EncodeFrame(ReceiptFrame{Type: FrameReceipt, Receipt: r, Cursor: LiveCursor(r.ChangeID)}), op)
	return r, nil
}

// hideBlockedReceipts clears, in conversations as viewerID sees them, the
// receipts of members in a block with the viewer (either way): while a
// block stands neither learns how far the other has received or read.
func (s *deps) hideBlockedReceipts(ctx context.Context, viewerID string, convs ...*Conversation) error {
	if len(convs) == 0 {
		return nil
	}
	rel, err := s.blockRelations(ctx, viewerID)
	if err != nil || (len(rel.Blocks) == 0 && len(rel.BlockedBy) == 0) {
		return err
	}
	for _, c := range convs {
		if c == nil {
			continue
		}
		for i := range c.Members {
			if m := &c.Members[i]; rel.Blocks[m.UserID] || rel.BlockedBy[m.UserID] {
				m.DeliveredSeq, m.ReadSeq = 0, 0
			}
		}
	}
	return nil
}

// dropBlockedReceipts removes from sync changes the receipts of users in
// a block with viewerID (either way), as live receipt frames are.
func (s *deps) dropBlockedReceipts(ctx context.Context, viewerID string, changes []SyncChange) ([]SyncChange, error) {
	rel, err := s.blockRelations(ctx, viewerID)
	if err != nil || (len(rel.Blocks) == 0 && len(rel.BlockedBy) == 0) {
		return changes, err
	}
	out := changes[:0]
	for _, ch := range changes {
		if ch.Receipt != nil && (rel.Blocks[ch.Receipt.UserID] || rel.BlockedBy[ch.Receipt.UserID]) {
			continue
		}
		out = append(out, ch)
	}
	return out, nil
}
