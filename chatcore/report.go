package chatcore

import (
	"context"
	"encoding/json"
	"time"
)

// ReportReason is why something was reported.
type ReportReason string

// Report reasons, one table: ReportReasons lists them for validation and
// the documentation.
const (
	ReasonSpam          ReportReason = "spam"
	ReasonHarassment    ReportReason = "harassment"
	ReasonHate          ReportReason = "hate"
	ReasonSexual        ReportReason = "sexual"
	ReasonViolence      ReportReason = "violence"
	ReasonSelfHarm      ReportReason = "self_harm"
	ReasonImpersonation ReportReason = "impersonation"
	ReasonIllegal       ReportReason = "illegal"
	ReasonOther         ReportReason = "other"
)

// ReportReasons are the accepted reasons.
var ReportReasons = []ReportReason{ReasonSpam, ReasonHarassment, ReasonHate, ReasonSexual,
	ReasonViolence, ReasonSelfHarm, ReasonImpersonation, ReasonIllegal, ReasonOther}

// Report statuses.
const (
	ReportOpen     = "open"
	ReportResolved = "resolved"
)

// Report limits.
const (
	MaxReportNoteRunes       = 1000
	MaxReportResolutionRunes = 1000
	DefaultReportsPage       = 50
	MaxReportsPage           = 200
)

// ReportedMessage names a message: its conversation and seq.
type ReportedMessage struct {
	ConversationID string `json:"conversation_id"`
	Seq            int64  `json:"seq"`
}

// ReportRequest is a report as a user files it: a message or a user.
type ReportRequest struct {
	Message *ReportedMessage `json:"message,omitempty"`
	UserID  string           `json:"user_id,omitempty"`
	Reason  ReportReason     `json:"reason"`
	Note    string           `json:"note,omitempty"`
}

// Report is a stored report. Snapshot is what was reported as it was when
// reported (the message, or the user's public profile), kept even when
// the message is later edited or deleted.
type Report struct {
	ID             string          `json:"id"`
	ReporterID     string          `json:"reporter_id"`
	TargetUserID   string          `json:"target_user_id"`
	ConversationID string          `json:"conversation_id,omitempty"`
	Seq            int64           `json:"seq,omitempty"`
	Snapshot       json.RawMessage `json:"snapshot"`
	Reason         ReportReason    `json:"reason"`
	Note           string          `json:"note"`
	Status         string          `json:"status"`
	CreatedAt      time.Time       `json:"created_at"`
	ResolvedAt     *time.Time      `json:"resolved_at,omitempty"`
	ResolvedBy     string          `json:"resolved_by,omitempty"`
	Resolution     string          `json:"resolution,omitempty"`
}

// ReportQuery pages reports for admins: Status "" (all), open or
// resolved; Before a report id (newest first, ids are time-ordered).
type ReportQuery struct {
	Status string
	Before string
	Limit  int
}

// ReportStore persists reports.
type ReportStore interface {
	// CreateReport stores r (every field set by the caller).
	CreateReport(ctx context.Context, r *Report) error
	// Reports returns a page of reports, newest first.
	Reports(ctx context.Context, q ReportQuery) ([]*Report, error)
	// ResolveReport marks an open report resolved and returns it.
	// ENotFound: no such report; EConflict: resolved already.
	ResolveReport(ctx context.Context, id, adminID, resolution string, now time.Time) (*Report, error)
}
