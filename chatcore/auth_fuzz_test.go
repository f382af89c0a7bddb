package chatcore

import (
	"strings"
	"testing"
	"time"
)

// FuzzVerifyAccessToken feeds arbitrary strings where an access token is
// expected: verification must never panic, and must answer EUnauthorized
// for anything but a token this service signed.
//
//	go test -run '^$' -fuzz FuzzVerifyAccessToken -fuzztime 30s ./chatcore/
func FuzzVerifyAccessToken(f *testing.F) {
	clock := newFakeClock()
	svcs, err := NewServices(ServiceConfig{Store: nopStore{}, Bus: nopBus{}, Presence: nopPresence{}, Clock: clock, JWTSecret: testSecret})
	if err != nil {
		f.Fatal(err)
	}
	defer svcs.Close()
	s := svcs.Auth.(*authService)
	valid, err := s.signAccessToken(&User{ID: "u1", Role: RoleUser}, "")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{valid, "", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", strings.Repeat(".", 100)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		sub, exp, err := s.verifyAccessToken(tok)
		if err != nil {
			if got := ErrorCode(err); got != EUnauthorized {
				t.Fatalf("got code %q, want %q", got, EUnauthorized)
			}
			return
		}
		// Only our own signature verifies (base64 may admit a few
		// equivalent spellings of it).
		if sub != "u1" || !exp.Equal(clock.Now().Add(15*time.Minute)) {
			t.Fatalf("accepted %q as sub %q exp %v", tok, sub, exp)
		}
	})
}

// FuzzParseArgonHash feeds arbitrary stored hashes: parsing must never
// panic and never accept parameters that would make a login costly.
func FuzzParseArgonHash(f *testing.F) {
	for _, seed := range []string{
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2V5a2U",
		"", "$argon2id$v=19$m=99999999,t=2,p=1$$", "$$$$$$",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		p, salt, key, ok := parseArgonHash(h)
		if !ok {
			return
		}
		if p.Memory > maxArgonMemoryKiB || p.Time > 16 || p.Threads > 16 || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
			t.Fatalf("accepted %q: %+v salt %d key %d", h, p, len(salt), len(key))
		}
	})
}
