package apns

import "time"

// AgeToken pretends the sender's JWT was made d ago.
func AgeToken(s *Sender, d time.Duration) {
	s.tok.GenerateIfExpired()
	s.tok.Lock()
	defer s.tok.Unlock()
	s.tok.IssuedAt -= int64(d / time.Second)
}
