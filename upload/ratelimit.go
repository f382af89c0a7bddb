package upload

import "github.com/parley-chat/parley/internal/ratelimit"

// uploadLimiter is the per-user limit on upload requests, counted per
// process: with several chat nodes each allows the rate (the daily quota,
// kept in the database, is global). perMinute < 0 turns it off.
func uploadLimiter(perMinute, burst int) *ratelimit.Keyed {
	if perMinute < 0 {
		return ratelimit.New(-1, 0)
	}
	return ratelimit.New(float64(perMinute)/60, burst)
}
