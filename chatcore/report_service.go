package chatcore

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ReportService files reports of messages and users, and lets admins page
// and resolve them.
type ReportService interface {
	// Report files a report of a message the caller can see (a member of
	// its conversation) or of a user; a snapshot of the message (or the
	// user's profile) is stored with it. Errors: EInvalid (neither or both
	// of message and user_id, unknown reason, note too long, one's own
	// message or oneself), ENotFound (no such message or user, or not
	// visible to the caller).
	Report(ctx context.Context, callerID string, req ReportRequest) (*Report, error)
	// Reports pages reports for an admin. Errors: EForbidden (not an
	// admin), EInvalid (bad status or limit).
	Reports(ctx context.Context, callerID string, q ReportQuery) ([]*Report, error)
	// Resolve closes an open report with an optional resolution note.
	// Errors: EForbidden (not an admin), ENotFound, EConflict (resolved
	// already), EInvalid (note too long).
	Resolve(ctx context.Context, callerID, id, resolution string) (*Report, error)
}

// reportService implements ReportService.
type reportService struct {
	*deps
	reports ReportStore
}

// profileSnapshot is what a user report keeps of the reported user.
type profileSnapshot struct {
	UserID      string `json:"user_id"`
	Username    string `json:"username"`
	DisplayName string `json:"display_name"`
}

func (s *reportService) Report(ctx context.Context, callerID string, req ReportRequest) (*Report, error) {
	if (req.Message == nil) == (req.UserID == "") {
		return nil, Errorf(EInvalid, "a report names either message {conversation_id, seq} or user_id")
	}
	if !slices.Contains(ReportReasons, req.Reason) {
		return nil, Errorf(EInvalid, "reason must be one of %s", joinReasons())
	}
	note, err := checkText(req.Note, "note", MaxReportNoteRunes)
	if err != nil {
		return nil, err
	}
	id, err := newID()
	if err != nil {
		return nil, internalError("report", err)
	}
	r := &Report{ID: id, ReporterID: callerID, Reason: req.Reason, Note: note, Status: ReportOpen, CreatedAt: s.clock.Now().UTC()}
	if req.Message != nil {
		m, err := s.visibleMessage(ctx, callerID, *req.Message)
		if err != nil {
			return nil, err
		}
		if m.SenderID == callerID {
			return nil, Errorf(EInvalid, "you cannot report your own message")
		}
		r.TargetUserID, r.ConversationID, r.Seq = m.SenderID, m.ConversationID, m.Seq
		if r.Snapshot, err = json.Marshal(m); err != nil {
			return nil, internalError("report", err)
		}
	} else {
		if req.UserID == callerID {
			return nil, Errorf(EInvalid, "you cannot report yourself")
		}
		u, err := s.store.UserByID(ctx, req.UserID)
		if err != nil {
			if ErrorCode(err) == ENotFound {
				return nil, Errorf(ENotFound, "user not found")
			}
			return nil, internalError("report", err)
		}
		r.TargetUserID = u.ID
		if r.Snapshot, err = json.Marshal(profileSnapshot{UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName}); err != nil {
			return nil, internalError("report", err)
		}
	}
	if err := s.reports.CreateReport(ctx, r); err != nil {
		return nil, internalError("report", err, slog.String("report_id", r.ID))
	}
	return r, nil
}

// visibleMessage returns a message of a conversation the caller is a
// member of; ENotFound otherwise (whether the conversation exists or not).
func (s *reportService) visibleMessage(ctx context.Context, callerID string, ref ReportedMessage) (*Message, error) {
	if ref.ConversationID == "" || ref.Seq < 1 {
		return nil, Errorf(EInvalid, "message needs conversation_id and a seq of at least 1")
	}
	ok, err := s.store.IsMember(ctx, ref.ConversationID, callerID)
	if err != nil && ErrorCode(err) != ENotFound {
		return nil, internalError("report", err, slog.String("conversation_id", ref.ConversationID))
	}
	if !ok {
		return nil, Errorf(ENotFound, "message not found")
	}
	msgs, err := s.store.ListMessages(ctx, ref.ConversationID, MessageQuery{After: ref.Seq - 1, Forward: true, Limit: 1})
	if err != nil {
		return nil, internalError("report", err, slog.String("conversation_id", ref.ConversationID))
	}
	if len(msgs) != 1 || msgs[0].Seq != ref.Seq {
		return nil, Errorf(ENotFound, "message not found")
	}
	if msgs[0].Kind == MessageSystem {
		return nil, Errorf(EInvalid, "system messages cannot be reported")
	}
	return msgs[0], nil
}

func (s *reportService) Reports(ctx context.Context, callerID string, q ReportQuery) ([]*Report, error) {
	if err := s.requireAdmin(ctx, callerID); err != nil {
		return nil, err
	}
	if q.Status != "" && q.Status != ReportOpen && q.Status != ReportResolved {
		return nil, Errorf(EInvalid, "status must be open or resolved")
	}
	var err error
	if q.Limit, err = pageLimit(q.Limit, DefaultReportsPage, MaxReportsPage); err != nil {
		return nil, err
	}
	rs, err := s.reports.Reports(ctx, q)
	if err != nil {
		return nil, internalError("list reports", err)
	}
	if rs == nil {
		rs = []*Report{}
	}
	return rs, nil
}

func (s *reportService) Resolve(ctx context.Context, callerID, id, resolution string) (*Report, error) {
	if err := s.requireAdmin(ctx, callerID); err != nil {
		return nil, err
	}
	resolution, err := checkText(resolution, "resolution", MaxReportResolutionRunes)
	if err != nil {
		return nil, err
	}
	r, err := s.reports.ResolveReport(ctx, id, callerID, resolution, s.clock.Now().UTC())
	switch ErrorCode(err) {
	case "":
		return r, nil
	case ENotFound:
		return nil, Errorf(ENotFound, "report not found")
	case EConflict:
		return nil, Errorf(EConflict, "report is resolved already")
	}
	return nil, internalError("resolve report", err, slog.String("report_id", id))
}

// requireAdmin refuses callers who are not admins (the HTTP edge checks
// too; the service does not rely on it).
func (s *deps) requireAdmin(ctx context.Context, callerID string) error {
	u, err := s.store.UserByID(ctx, callerID)
	if err != nil {
		if ErrorCode(err) == ENotFound {
			return Errorf(EForbidden, "admin role required")
		}
		return internalError("check admin", err)
	}
	if u.Role != RoleAdmin {
		return Errorf(EForbidden, "admin role required")
	}
	return nil
}

// checkText trims a free-text field and checks it is valid UTF-8 of at
// most max characters without control characters other than newlines.
func checkText(t, field string, max int) (string, error) {
	t = strings.TrimSpace(t)
	if !utf8.ValidString(t) {
		return "", Errorf(EInvalid, "%s must be valid UTF-8", field)
	}
	if utf8.RuneCountInString(t) > max {
		return "", Errorf(EInvalid, "%s must be at most %d characters", field, max)
	}
	for _, r := range t {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", Errorf(EInvalid, "%s must not hold control characters", field)
		}
	}
	return t, nil
}

func joinReasons() string {
	ss := make([]string, len(ReportReasons))
	for i, r := range ReportReasons {
		ss[i] = string(r)
	}
	return strings.Join(ss, ", ")
}
