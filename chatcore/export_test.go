package chatcore

// CheapPasswordsForTest makes s hash passwords with the smallest argon2id
// cost, so that service tests under -race do not spend seconds hashing.
// Verification still reads the cost from each stored hash.
func CheapPasswordsForTest(svcs *Services) {
	s := svcs.Auth.(*authService)
	s.pw = argonParams{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
	h, err := s.hashPassword("parley-dummy-password")
	if err != nil {
		panic(err)
	}
	s.dummyHash = h
}

// ActiveTypingForTest returns how many typing periods run on s.
func ActiveTypingForTest(s *Services) int { return s.deps.typing.active() }
