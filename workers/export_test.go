package workers

// SetProcess replaces the pipeline of h, for tests that need failures the
// real pipeline cannot be made to produce on demand.
func SetProcess(h *Handler, f ProcessFunc) { h.process = f }

// LeaseKey is leaseKey, for the test that pins asynq's key layout.
func LeaseKey(queue string) string { return leaseKey(queue) }
