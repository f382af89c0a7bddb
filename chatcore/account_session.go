package chatcore

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// noteSession records what the client said about itself (ClientInfo in
// ctx) and when and from where the session was last used: on login and
// registration (a new session) and on every refresh, so about once per
// access-token lifetime rather than on every request. Stores that keep no
// sessions' descriptions (not AccountStore) skip it.
func (s *authService) noteSession(ctx context.Context, userID, sessionID string, now time.Time) error {
	as, ok := s.store.(AccountStore)
	if !ok {
		return nil
	}
	ci := ClientInfoFrom(ctx)
	return as.TouchSession(ctx, userID, &Session{
		ID:         sessionID,
		DeviceName: clientText(ci.DeviceName, MaxDeviceNameRunes),
		Platform:   clientText(ci.Platform, MaxPlatformRunes),
		IP:         clientText(ci.IP, 64),
		CreatedAt:  now,
		LastUsedAt: now,
	})
}

// clientText makes a client-declared label safe to store and show: valid
// UTF-8, no control or invisible format characters, trimmed, cut to max
// characters. It never fails: a bad label is shortened, not refused.
func clientText(s string, max int) string {
	if len(s) > 4*max*utf8.UTFMax {
		s = s[:4*max*utf8.UTFMax]
	}
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || IsInvisibleFormat(r) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max])
	}
	return strings.TrimSpace(s)
}
