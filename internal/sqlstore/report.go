package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/parley-chat/parley/chatcore"
)

var _ chatcore.ReportStore = (*Store)(nil)

const reportCols = `id, reporter_id, target_user_id, conversation_id, seq, snapshot, reason, note, status, created_at, resolved_at, resolved_by, resolution`

func scanReport(row interface{ Scan(...any) error }) (*chatcore.Report, error) {
	var r chatcore.Report
	var snap, reason string
	var created, resolved timeCol
	if err := row.Scan(&r.ID, &r.ReporterID, &r.TargetUserID, &r.ConversationID, &r.Seq, &snap, &reason,
		&r.Note, &r.Status, &created, &resolved, &r.ResolvedBy, &r.Resolution); err != nil {
		return nil, err
	}
	r.Snapshot, r.Reason = []byte(snap), chatcore.ReportReason(reason)
	r.CreatedAt, r.ResolvedAt = created.T, resolved.ptr()
	return &r, nil
}

// CreateReport stores r.
func (s *Store) CreateReport(ctx context.Context, r *chatcore.Report) error {
	r.CreatedAt = UTC(r.CreatedAt)
	_, err := s.write.ExecContext(ctx, `INSERT INTO reports (`+reportCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		r.ID, r.ReporterID, r.TargetUserID, r.ConversationID, r.Seq, string(r.Snapshot), string(r.Reason),
		r.Note, r.Status, s.t(r.CreatedAt), s.tNull(r.ResolvedAt), r.ResolvedBy, r.Resolution)
	if err != nil {
		return fmt.Errorf("create report: %w", err)
	}
	return nil
}

// Reports returns a page of reports, newest first (ids are time-ordered).
func (s *Store) Reports(ctx context.Context, q chatcore.ReportQuery) ([]*chatcore.Report, error) {
	where, args := "1 = 1", []any{}
	if q.Status != "" {
		args = append(args, q.Status)
		where += fmt.Sprintf(" AND status = $%d", len(args))
	}
	if q.Before != "" {
		args = append(args, q.Before)
		where += fmt.Sprintf(" AND id < $%d", len(args))
	}
	args = append(args, clampLimit(q.Limit, chatcore.DefaultReportsPage, chatcore.MaxReportsPage))
	rows, err := s.read.QueryContext(ctx,
		`SELECT `+reportCols+` FROM reports WHERE `+where+fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	defer rows.Close()
	out := []*chatcore.Report{}
	for rows.Next() {
		r, err := scanReport(rows)
		if err != nil {
			return nil, fmt.Errorf("reports: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	return out, nil
}

// ResolveReport resolves an open report in one conditional UPDATE.
func (s *Store) ResolveReport(ctx context.Context, id, adminID, resolution string, now time.Time) (*chatcore.Report, error) {
	r, err := scanReport(s.write.QueryRowContext(ctx,
		`UPDATE reports SET status = $2, resolved_at = $3, resolved_by = $4, resolution = $5
WHERE id = $1 AND status = $6 RETURNING `+reportCols,
		id, chatcore.ReportResolved, s.t(UTC(now)), adminID, resolution, chatcore.ReportOpen))
	if err == nil {
		return r, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("resolve report: %w", err)
	}
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM reports WHERE id = $1`, id).Scan(&n); err != nil {
		return nil, fmt.Errorf("resolve report: %w", err)
	}
	if n == 0 {
		return nil, chatcore.Errorf(chatcore.ENotFound, "no report %s", id)
	}
	return nil, chatcore.Errorf(chatcore.EConflict, "report %s is resolved already", id)
}
