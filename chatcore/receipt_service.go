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
	s.publish(ctx, without(members, callerID), EncodeFrame(ReceiptFrame{Type: FrameReceipt, Receipt: r, Cursor: LiveCursor(r.ChangeID)}), op)
	return r, nil
}
