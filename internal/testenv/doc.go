// Package testenv gives tests their own slice of the real services Parley
// talks to: a fresh Postgres database, a private Redis database number and a
// running versitygw S3 server. Tests that need a service which is not there
// fail and say what to start; they never skip.
//
//	dsn := testenv.Postgres(t)     // dropped when t ends
//	redisURL := testenv.Redis(t)   // redis://127.0.0.1:6379/N, flushed first
//	s3 := testenv.S3(t)            // versitygw on 127.0.0.1:random
package testenv
